"""Fits the SIMD tanh's rational approximation (engine/x86/tanh_rational.h): tanh(x) ~ x P(x^2) / Q(x^2) on
|x| <= 9, P and Q of degree 4 in x^2, Q(0) = 1, minimising the largest absolute error over a dense grid. For a
trial error d the conditions |x P - tanh Q| <= d Q, Q >= 0.01 are linear in the coefficients, so a linear program
says whether d is reachable; bisection on d gives the minimax fit. Prints the coefficients and the error of the
fp32 Horner evaluation the kernels do. Run: python3 engine/tools/fit_tanh.py (numpy, scipy)."""
import numpy as np
from scipy.optimize import linprog

X, DP, DQ = 9.0, 4, 4


def feasible(x, f, u, d):
    pm = np.stack([x * u ** k for k in range(DP + 1)], 1)
    qm = np.stack([u ** k for k in range(1, DQ + 1)], 1)
    a = np.concatenate([np.concatenate([pm, -(f + d)[:, None] * qm], 1),
                        np.concatenate([-pm, (f - d)[:, None] * qm], 1),
                        np.concatenate([np.zeros_like(pm), -qm], 1)])
    b = np.concatenate([f + d, d - f, np.full(len(x), 0.99)])
    r = linprog(np.zeros(DP + 1 + DQ), A_ub=a, b_ub=b, bounds=(None, None), method="highs")
    return r.x if r.status == 0 else None


def horner32(c, s):
    v = np.float32(c[-1])
    for k in c[-2::-1]:
        v = v * s + np.float32(k)
    return v


def main():
    x = np.unique(np.concatenate([np.linspace(0, X, 3001)[1:], np.geomspace(1e-4, 0.5, 200)]))
    f, u = np.tanh(x), (x / X) ** 2  # u: x^2 scaled to [0, 1] for a well-conditioned program
    lo, hi, best = 0.0, 1e-2, None
    for _ in range(40):
        mid = (lo + hi) / 2
        sol = feasible(x, f, u, mid)
        if sol is None:
            lo = mid
        else:
            hi, best = mid, sol
    p = best[:DP + 1] / X ** (2 * np.arange(DP + 1))
    q = np.concatenate([[1.0], best[DP + 1:] / X ** (2 * np.arange(1, DQ + 1))])
    xt = np.clip(np.linspace(-12, 12, 2000001).astype(np.float32), -X, X)
    y = xt * horner32(p, xt * xt) / horner32(q, xt * xt)
    err = np.abs(y.astype(np.float64) - np.tanh(xt.astype(np.float64))).max()
    print("minimax error %.2e, fp32 evaluation %.2e" % (hi, err))
    print("kTanhP = {%s}" % ", ".join("%.9gf" % v for v in p))
    print("kTanhQ = {%s}" % ", ".join("%.9gf" % v for v in q))


if __name__ == "__main__":
    main()
