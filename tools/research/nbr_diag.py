"""Where the variance of a feature map lies: for features F (n, D) of a scan DIR, over the grain
interiors (truth_region 0), the share of the total variance (summed over features) between
classes, between grains of one class, and within grains; the within-grain share explained by
the thickness (linear, per grain); and the neighbour term's value over all positions
(mean over features of E(F(x) - F(x_nb))^2 / var, all offsets with |dy|, |dx| <= R, not 0;
2 for unrelated pairs). usage: nbr_diag.py DIR FEATURES.npy [N] [R]"""
import sys, json, numpy as np
d, fp = sys.argv[1], sys.argv[2]
N = int(sys.argv[3]) if len(sys.argv) > 3 else 10; R = int(sys.argv[4]) if len(sys.argv) > 4 else 2
F = np.load(fp)[:, :N].astype(np.float64)
ny, nx = json.load(open(d + '/truth.json'))['scan']
cls, gr, reg, th = (np.load(d + '/truth_%s.npy' % k).ravel() for k in ('class', 'grain', 'region', 'thickness'))
G = F.reshape(ny, nx, -1); var = F.var(0); acc = []
for dy in range(-R, R + 1):
    for dx in range(-R, R + 1):
        if dy == 0 and dx == 0: continue
        a = G[max(0, dy):ny + min(0, dy), max(0, dx):nx + min(0, dx)]
        b = G[max(0, -dy):ny + min(0, -dy), max(0, -dx):nx + min(0, -dx)]
        acc.append((((a - b) ** 2).reshape(-1, F.shape[1]).mean(0) / var).mean())
m = reg == 0; X = F[m]; c = cls[m]; g = gr[m]; t = th[m]
tot = ((X - X.mean(0)) ** 2).sum()
between_c = within_g = thick = 0.0
for k in np.unique(c):
    Xc = X[c == k]; between_c += len(Xc) * ((Xc.mean(0) - X.mean(0)) ** 2).sum()
for k in np.unique(g):
    s = g == k; Xg = X[s]; r = Xg - Xg.mean(0); within_g += (r ** 2).sum()
    tc = t[s] - t[s].mean()
    if tc.std() > 0:  # least squares of each feature on the grain's thickness
        beta = (tc @ r) / (tc @ tc); thick += ((tc[:, None] * beta[None]) ** 2).sum()
print('%s: neighbour term %.4f | grain interiors: between classes %.3f, between grains of a class %.3f, '
      'within grains %.3f (thickness explains %.2f of it)' % (fp, np.mean(acc), between_c / tot,
      1 - between_c / tot - within_g / tot, within_g / tot, thick / max(within_g, 1e-300)))
