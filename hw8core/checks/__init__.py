"""The graded checks: one pytest module per homework section (1, 2, 3, 4, 5 and 7)."""
