"""Section 4's training with pure-Python loops instead of matrix products: correct, and slow (make bench times it)."""
import math
import numpy as np
import reference as r

def sig(x): return 1.0 / (1.0 + math.exp(-x))

def grads_naive(weights, a, b, width=8):
    Wx, Wh, Wy = (weights[k].tolist() for k in ("W_xh", "W_hh", "W_hy"))
    H = len(Wh)
    xs = [((a >> t) & 1, (b >> t) & 1) for t in range(width)]
    c = [((a + b) >> t) & 1 for t in range(width)]
    hs = [[0.0] * H]
    ys = []
    for t in range(width):
        prev = hs[-1]
        h = [sig(xs[t][0] * Wx[0][j] + xs[t][1] * Wx[1][j] + sum(prev[i] * Wh[i][j] for i in range(H))) for j in range(H)]
        hs.append(h)
        ys.append(sig(sum(h[j] * Wy[j][0] for j in range(H))))
    gx = [[0.0] * H for _ in range(2)]; gh = [[0.0] * H for _ in range(H)]; gy = [[0.0] for _ in range(H)]
    dnext = [0.0] * H
    for t in reversed(range(width)):
        dz = (ys[t] - c[t]) * ys[t] * (1 - ys[t])
        h, prev = hs[t + 1], hs[t]
        for j in range(H):
            gy[j][0] += h[j] * dz
        dzh = [(dz * Wy[j][0] + dnext[j]) * h[j] * (1 - h[j]) for j in range(H)]
        for j in range(H):
            gx[0][j] += xs[t][0] * dzh[j]; gx[1][j] += xs[t][1] * dzh[j]
            for i in range(H):
                gh[i][j] += prev[i] * dzh[j]
        dnext = [sum(Wh[i][j] * dzh[j] for j in range(H)) for i in range(H)]
    return {"W_xh": np.array(gx), "W_hh": np.array(gh), "W_hy": np.array(gy)}

def train_naive(iterations, hidden_dim=16, alpha=0.1, seed=0, width=8):
    rng = np.random.RandomState(seed)
    w = {"W_xh": 2 * rng.random_sample((2, hidden_dim)) - 1, "W_hy": 2 * rng.random_sample((hidden_dim, 1)) - 1,
         "W_hh": 2 * rng.random_sample((hidden_dim, hidden_dim)) - 1}
    for _ in range(iterations):
        a = rng.randint(2 ** (width - 1)); b = rng.randint(2 ** (width - 1))
        g = grads_naive(w, a, b, width)
        for k in w: w[k] -= alpha * g[k]
    return w
