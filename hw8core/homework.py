"""The homework's own data, as its text gives it: inputs, letters, words and the char-LM's text.

Plain constants shared by the probe plans and the checks, and shipped in the student kit (none of
it is a solution: the homework prints all of it). tests/test_reference.py pins them to reference/.
"""
import numpy as np

SECTIONS = (1, 2, 3, 4, 5, 7)  # the homework's numbering: there is no section 6 (reference.API's keys)
HW_INPUTS = np.array([[1., 1.], [1., 1.], [2., 2.]])  # sections 1-3: the input sequence
ONES = np.ones((2, 2))  # sections 1-2: every weight matrix
SEQ_DATA = [['man', 'women'], ['black', 'white'], ['king', 'queen'], ['girl', 'boy'], ['up', 'down'], ['high', 'low']]
LETTERS = 'SE?abcdefghijklmnopqrstuvwxyz'  # section 7: S start, E end, ? padding
IDX2CHAR = ['e', 'h', 'l', 'o']  # section 5's vocabulary
X_TEXT, Y_TEXT = "hello", "ohlol"  # section 5: input and target
