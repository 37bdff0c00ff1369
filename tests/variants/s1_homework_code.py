# Section 1 as the homework's own code, wrapped in the API with the fewest edits: the printing inside the loop,
# the tuple state_t, np.dot on plain lists, the homework's inputs and weights at the top.
# Edits: the loop is a function of (inputs, W_xh, W_hh, W_hy, h0) returning the stacked states and outputs; the
# scalar weights w1 ... w8 and U1 ... U4 become rows of the weight matrices, so that any size works
# (w1, w3 = W_xh[0]; w2, w4 = W_xh[1]; U2, U4 = W_hh[0]; U1, U3 = W_hh[1]; w5, w7 = W_hy[0]; w6, w8 = W_hy[1]).
import numpy as np

inputs = np.array([[1., 1.],
                   [1., 1.],
                   [2., 2.]])  # 初始化输入序列
print('inputs is ', inputs)

state_t = np.zeros(2, )  # 初始化存储器
print('state_t is ', state_t)

w1, w2, w3, w4, w5, w6, w7, w8 = 1., 1., 1., 1., 1., 1., 1., 1.
U1, U2, U3, U4 = 1., 1., 1., 1.


def srn_forward(inputs, W_xh, W_hh, W_hy, h0=None):
    state_t = np.zeros(len(W_hh), ) if h0 is None else h0  # 初始化存储器
    states, outputs = [], []
    print('--------------------------------------')
    for input_t in inputs:
        print('inputs is ', input_t)
        print('state_t is ', state_t)
        in_h = [np.dot(W_xh[j], input_t) + np.dot(W_hh[j], state_t) for j in range(len(W_hh))]
        state_t = tuple(in_h)
        output_y = [np.dot(W_hy[k], in_h) for k in range(len(W_hy))]
        print('output_y is ', *output_y)
        print('---------------')
        states.append(state_t)
        outputs.append(output_y)
    return np.array(states), np.array(outputs)


W = np.array([[w1, w3], [w2, w4]])
states, outputs = srn_forward(inputs, W, np.array([[U2, U4], [U1, U3]]), np.array([[w5, w7], [w6, w8]]))
