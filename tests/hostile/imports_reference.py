# expect: {"1": 10, "2": 10, "3": 15} message: "No module named 'reference'"
import reference  # the grader's own solutions: must not be importable from student code
# (the correct srn_forward defined before this snippet stays: importing the reference gains nothing)

srn_forward = reference.srn_forward
