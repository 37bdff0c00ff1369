# Section 4 as the homework's own code, wrapped in the API: np.random.seed(0) at the top, the globals binary_dim,
# alpha, hidden_dim (as defaults), global np.random seeding, deepcopy, atleast_2d, per-bit Python lists, the update
# accumulated with the homework's sign (y - c), and the progress printed every 1000 iterations.
# The homework's int2binary is a dict of 256 entries; the API's is a function of (n, width).
import copy

import numpy as np

np.random.seed(0)


def sigmoid(x):
    output = 1 / (1 + np.exp(-x))
    return output


def sigmoid_output_to_derivative(output):
    return output * (1 - output)


#训练数据的产生
binary_dim = 8  # 定义二进制位的长度
largest_number = pow(2, binary_dim)  # 定义数据的最大值
alpha = 0.1  # 设置更新速度(学习率)
input_dim = 2  # 输入维度大小
hidden_dim = 16  # 隐藏层维度大小
output_dim = 1  # 输出维度大小


def int2binary(n, width=binary_dim):
    return np.unpackbits(np.array([[n]], dtype=np.uint64).view(np.uint8)[:, ::-1], axis=1)[0][-width:]


def binary2int(bits):
    out = 0
    for index, x in enumerate(reversed(list(bits))):
        out += int(x) * pow(2, index)
    return out


def binary_adder_forward(weights, a, b, width=binary_dim):
    synapse_0, synapse_1, synapse_h = weights["W_xh"], weights["W_hy"], weights["W_hh"]
    hidden_dim = synapse_h.shape[0]
    a_bits, b_bits = int2binary(a, width), int2binary(b, width)
    layer_1_values = [np.zeros(hidden_dim)]
    outputs = []
    for position in range(width):
        X = np.array([[a_bits[width - position - 1], b_bits[width - position - 1]]])
        layer_1 = sigmoid(np.dot(X, synapse_0) + np.dot(layer_1_values[-1], synapse_h))
        layer_2 = sigmoid(np.dot(layer_1, synapse_1))
        outputs.append(layer_2[0][0])
        layer_1_values.append(copy.deepcopy(layer_1[0]))
    return np.array(layer_1_values), np.array(outputs)


def binary_adder_gradients(weights, a, b, width=binary_dim):
    synapse_0, synapse_1, synapse_h = weights["W_xh"], weights["W_hy"], weights["W_hh"]
    hidden_dim = synapse_h.shape[0]
    a_bits, b_bits, c = int2binary(a, width), int2binary(b, width), int2binary(a + b, width)
    layer_1_values, outputs = binary_adder_forward(weights, a, b, width)
    layer_2_deltas = []
    for position in range(width):
        y = c[width - position - 1]
        layer_2 = outputs[position]
        layer_2_deltas.append(np.array([[(y - layer_2) * sigmoid_output_to_derivative(layer_2)]]))
    synapse_0_update = np.zeros_like(synapse_0, dtype=np.float64)
    synapse_1_update = np.zeros_like(synapse_1, dtype=np.float64)
    synapse_h_update = np.zeros_like(synapse_h, dtype=np.float64)
    future_layer_1_delta = np.zeros(hidden_dim)
    for position in range(width):
        X = np.array([[a_bits[position], b_bits[position]]])
        layer_1 = layer_1_values[-position - 1]
        prev_layer_1 = layer_1_values[-position - 2]
        layer_2_delta = layer_2_deltas[-position - 1]
        layer_1_delta = (future_layer_1_delta.dot(synapse_h.T) + layer_2_delta.dot(synapse_1.T)) \
            * sigmoid_output_to_derivative(layer_1)
        synapse_1_update += np.atleast_2d(layer_1).T.dot(layer_2_delta)
        synapse_h_update += np.atleast_2d(prev_layer_1).T.dot(layer_1_delta)
        synapse_0_update += X.T.dot(layer_1_delta)
        future_layer_1_delta = layer_1_delta
    # The homework adds alpha * update, so its update is -dL/dW; the API asks for dL/dW.
    return {"W_xh": -synapse_0_update, "W_hh": -synapse_h_update, "W_hy": -synapse_1_update}


def train_binary_adder(iterations=10000, hidden_dim=hidden_dim, alpha=alpha, seed=0, width=binary_dim):
    np.random.seed(seed)
    largest_number = pow(2, width)
    synapse_0 = 2 * np.random.random((2, hidden_dim)) - 1
    synapse_1 = 2 * np.random.random((hidden_dim, 1)) - 1
    synapse_h = 2 * np.random.random((hidden_dim, hidden_dim)) - 1
    weights = {"W_xh": synapse_0, "W_hh": synapse_h, "W_hy": synapse_1}
    for j in range(iterations):
        a_int = np.random.randint(largest_number // 2)
        b_int = np.random.randint(largest_number // 2)
        grads = binary_adder_gradients(weights, a_int, b_int, width)
        synapse_0 -= alpha * grads["W_xh"]
        synapse_1 -= alpha * grads["W_hy"]
        synapse_h -= alpha * grads["W_hh"]
        # 打印训练过程
        if (j % 1000 == 0):
            c = int2binary(a_int + b_int, width)
            _, outputs = binary_adder_forward(weights, a_int, b_int, width)
            overallError = np.abs(c[::-1] - outputs).sum()
            d = np.zeros_like(c)
            for position in range(width):
                d[width - position - 1] = np.round(outputs[position])
            print("Error:" + str(overallError))
            print("Pred:" + str(d))
            print("True:" + str(c))
            out = 0
            for index, x in enumerate(reversed(d)):
                out += x * pow(2, index)
            print(str(a_int) + " + " + str(b_int) + " = " + str(out))
            print("------------")
    return weights


def add_binary(weights, a, b, width=binary_dim):
    _, outputs = binary_adder_forward(weights, a, b, width)
    d = np.zeros(width, dtype=np.uint8)
    for position in range(width):
        d[width - position - 1] = np.round(outputs[position])
    return binary2int(d)
