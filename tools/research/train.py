"""Time-boxed training of lcae-style autoencoders in PyTorch, then encode / cluster / score.
Examples:
  train.py data/s1 --arch cae --rot none --seconds 180                 # standard model
  train.py data/s1 --arch cae --rot paper --seconds 180                # paper's invariant model
  train.py data/s1 --arch polar --seconds 180 --latbn                  # invariant by construction
  train.py data/s1 --arch polar --invdec 1 --nbr 1 --nbr-radius 2      # + neighbour (slow-feature) term
"""
import sys, os, time, math, argparse, json, numpy as np, torch, torch.nn as nn, torch.nn.functional as F
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from common import report, spread_ratio
from modules import block, Dec, CircConv
p = argparse.ArgumentParser()
p.add_argument('data'); p.add_argument('--arch', default='cae')
p.add_argument('--size', type=int, default=64); p.add_argument('--base', type=int, default=8)
p.add_argument('--seconds', type=float, default=180, help='CPU seconds / threads'); p.add_argument('--max-steps', type=int, default=0)
p.add_argument('--lr', type=float, default=1e-3); p.add_argument('--sched', default='onecycle')
p.add_argument('--batch', type=int, default=32); p.add_argument('--rot', default='none')
p.add_argument('--lam', type=float, default=50); p.add_argument('--N', type=int, default=10)
p.add_argument('--latbn', action='store_true'); p.add_argument('--seed', type=int, default=0)
p.add_argument('--subset', type=int, default=0); p.add_argument('--recon', default='l1')
p.add_argument('--vic-var', type=float, default=25); p.add_argument('--vic-cov', type=float, default=1)
p.add_argument('--pool', default='meanmax'); p.add_argument('--ntheta', type=int, default=96)
p.add_argument('--aug-rot', action='store_true', help='standard model: recon of rotated input too')
p.add_argument('--name', default=''); p.add_argument('--threads', type=int, default=2)
p.add_argument('--save', default='')
p.add_argument('--prep', default='', help='the prepared patterns in DATA (default prep64.npy or prep32.npy by --size)')
p.add_argument('--sched-all', action='store_true',
               help='with --max-steps: the schedule over all steps from the first, as lcae trains '
                    '(default: 20 steps at --lr, then the schedule over the rest + 5 steps)')
p.add_argument('--invdec', type=float, default=0, help='weight of an auxiliary decoder z[:N] -> |FFT_theta| of the polar image')
p.add_argument('--invK', type=int, default=7)
p.add_argument('--nbr', type=float, default=0,
               help='weight of the neighbour term: mean over the invariant features of '
                    '(z(x) - z(x_nb))^2 / batch variance, x_nb a random scan neighbour of x')
p.add_argument('--nbr-radius', type=int, default=2, help='neighbour offsets |dy|, |dx| <= R scan pixels, not 0')
p.add_argument('--pairs', action='store_true',
               help='batches of anchor + neighbour pairs even at --nbr 0 (the control for the batch composition)')
p.add_argument('--mcs', type=int, default=60, help='HDBSCAN min_cluster_size')
p.add_argument('--report', default='all', help='all: inv10 and all16, raw and z-scored; inv: inv10 raw only')
a = p.parse_args()
torch.set_num_threads(a.threads); torch.manual_seed(a.seed); np.random.seed(a.seed)
d = a.data.rstrip('/')
X = np.load(d + '/' + (a.prep or ('prep64.npy' if a.size == 64 else 'prep32.npy')))
n, H, W = X.shape
ny, nx = json.load(open(d + '/truth.json'))['scan']  # rows of X in scan order, x fastest
assert ny * nx == n, (ny, nx, n)

def neighbours(ib, rng):
    """a random scan neighbour of each position: offset (dy, dx) uniform over the
    (2R+1)^2 - 1 non-zero offsets with |dy|, |dx| <= R, reflected at the scan's edges"""
    R = a.nbr_radius; k = 2 * R + 1
    o = rng.integers(1, k * k, len(ib))          # skip offset index 0 ...
    o = (o + (k * k) // 2) % (k * k)             # ... so that the centre (index k*k//2) is never drawn
    dy = o // k - R; dx = o % k - R
    y = ib // nx + dy; x = ib % nx + dx
    y = np.where(y < 0, -y, np.where(y >= ny, 2 * (ny - 1) - y, y))
    x = np.where(x < 0, -x, np.where(x >= nx, 2 * (nx - 1) - x, x))
    return y * nx + x

def polar_images(X, nr, nt):
    """bilinear polar resampling about the centre: radii 1..H/2-1 (nr rows), nt angles"""
    h = X.shape[1]; c = (h - 1) / 2
    r = torch.linspace(1, h / 2 - 1, nr); th = torch.arange(nt) * 2 * math.pi / nt
    gy = c + r[:, None] * torch.sin(th)[None]; gx = c + r[:, None] * torch.cos(th)[None]
    grid = torch.stack([gx / (h - 1) * 2 - 1, gy / (h - 1) * 2 - 1], -1)[None]
    out = []
    for i in range(0, len(X), 1024):
        xb = torch.from_numpy(X[i:i + 1024])[:, None]
        out.append(F.grid_sample(xb, grid.expand(len(xb), -1, -1, -1), align_corners=True))
    return torch.cat(out)

class CAE(nn.Module):
    def __init__(s, b, H, W, c=4, L=16, latbn=False):
        super().__init__()
        s.enc = nn.Sequential(block(1, b), block(b, b), block(b, 2 * b, 4, 2), block(2 * b, 2 * b),
                              block(2 * b, 4 * b, 4, 2), block(4 * b, 4 * b), block(4 * b, 8 * b, 4, 2),
                              block(8 * b, 8 * b), nn.Conv2d(8 * b, c, 4, 2, 1))
        s.fc = nn.Sequential(nn.Linear(c * (H // 16) * (W // 16), 1024), nn.ReLU(), nn.Linear(1024, L))
        s.bn = nn.BatchNorm1d(L, affine=False) if latbn else nn.Identity()
        s.dec = Dec(b, H, W, c, L)
    def encode(s, x):
        return s.bn(s.fc(s.enc(x).flatten(1)))

class PolarAE(nn.Module):
    """invariant-by-construction encoder on the polar image (nr x nt): circular convs, pooling
    over theta for the first N features; the other L-N from theta-resolved features."""
    def __init__(s, b, nr, nt, N=10, L=16, latbn=False, pool='meanmax'):
        super().__init__()
        s.N, s.pool = N, pool
        s.enc = nn.Sequential(CircConv(1, b), CircConv(b, b, 2), CircConv(b, 2 * b), CircConv(2 * b, 2 * b, 2),
                              CircConv(2 * b, 4 * b, 2), CircConv(4 * b, 4 * b, 2))
        r_out = nr // 16; C = 4 * b
        npool = {'mean': 1, 'max': 1, 'meanmax': 2, 'fft': 4}[pool]
        s.inv = nn.Sequential(nn.Linear(C * r_out * npool, 256), nn.ReLU(), nn.Linear(256, N))
        s.nt_out = 12
        s.var = nn.Sequential(nn.Linear(C * r_out * s.nt_out, 256), nn.ReLU(), nn.Linear(256, L - N))
        s.bn = nn.BatchNorm1d(L, affine=False) if latbn else nn.Identity()
        s.dec = Dec(b, nr, nt, 4, L)
    def encode(s, x):
        f = s.enc(x)  # B, C, r, T
        if s.pool == 'mean': g = f.mean(3)
        elif s.pool == 'max': g = f.amax(3)
        elif s.pool == 'meanmax': g = torch.cat([f.mean(3), f.amax(3)], 1)
        else: g = torch.fft.rfft(f, dim=3).abs()[..., :4] / f.shape[3]
        zi = s.inv(g.flatten(1))
        zv = s.var(F.adaptive_avg_pool2d(f, (f.shape[2], s.nt_out)).flatten(1))
        return s.bn(torch.cat([zi, zv], 1))

def rotate(x, ang):
    """bilinear rotation about the pattern centre (the patterns are beam-centred)"""
    c, s_ = torch.cos(ang), torch.sin(ang)
    th = torch.zeros(len(x), 2, 3); th[:, 0, 0] = c; th[:, 0, 1] = -s_; th[:, 1, 0] = s_; th[:, 1, 1] = c
    g = F.affine_grid(th, x.shape, align_corners=True)
    return F.grid_sample(x, g, padding_mode='border', align_corners=True)

def recon(y, x):
    if a.recon == 'mse': return F.mse_loss(y, x)
    return (y - x).clamp(-10, 10).abs().mean()

def vicreg(z):
    std = torch.sqrt(z.var(0) + 1e-4)
    v = F.relu(1 - std).mean()
    zc = z - z.mean(0); cov = zc.T @ zc / (len(z) - 1)
    off = cov - torch.diag(torch.diag(cov))
    return v, (off ** 2).sum() / z.shape[1]

if a.arch == 'polar':
    nr = a.size // 2
    Xt = polar_images(X, nr, a.ntheta)
    model = PolarAE(a.base, nr, a.ntheta, a.N, 16, a.latbn, a.pool)
else:
    Xt = torch.from_numpy(X)[:, None]
    model = CAE(a.base, H, W, 4, 16, a.latbn)
if a.invdec:
    if a.arch == 'polar': Pp = Xt
    else: Pp = polar_images(X, H // 2, 96)
    T = torch.fft.rfft(Pp[:, 0], dim=2).abs()[..., :a.invK] / Pp.shape[3]
    T = ((T - T.mean(0)) / (T.std(0) + 1e-6)).flatten(1)
    aux = nn.Sequential(nn.Linear(a.N, 256), nn.ReLU(), nn.Linear(256, T.shape[1]))
    model.aux = aux
idx_all = np.random.permutation(n)[:a.subset] if a.subset else np.arange(n)
opt = torch.optim.Adam(model.parameters(), lr=a.lr)
# estimate steps from a short timing run, then fix the schedule
def step_fn(xb, ib=None):
    z = model.encode(xb); y = model.dec(z)
    loss = recon(y, xb); parts = {'rec': loss.item()}
    if a.invdec:
        li = F.mse_loss(model.aux(z[:, :a.N]), T[ib]); loss = loss + a.invdec * li; parts['inv'] = li.item()
    if a.arch == 'cae' and (a.rot != 'none' or a.aug_rot):
        ang = torch.rand(len(xb)) * 2 * math.pi
        xr = rotate(xb, ang); zr = model.encode(xr)
        lr_ = recon(model.dec(zr), xr); loss = loss + lr_
        if a.rot in ('paper', 'scalefree', 'vicreg', 'mse'):
            dz = zr[:, :a.N] - z[:, :a.N]
            if a.rot == 'scalefree':
                lrot = (dz.abs() / (z[:, :a.N].std(0).detach() + 1e-6)).mean()
            elif a.rot == 'mse' or a.rot == 'vicreg':
                lrot = (dz ** 2).mean()
            else:
                lrot = dz.abs().mean()
            loss = loss + a.lam * lrot; parts['rot'] = lrot.item()
            if a.rot == 'vicreg':
                v1, c1 = vicreg(z); v2, c2 = vicreg(zr)
                loss = loss + a.vic_var * (v1 + v2) + a.vic_cov * (c1 + c2)
                parts['var'] = (v1 + v2).item(); parts['cov'] = (c1 + c2).item()
    if a.arch == 'polar' and a.rot == 'vicreg':
        v1, c1 = vicreg(z); loss = loss + a.vic_var * v1 + a.vic_cov * c1
    if a.nbr or a.pairs:
        # the batch is B anchors then their B neighbours; the squared difference of each
        # invariant feature is divided by that feature's variance over the whole batch
        # (differentiated through it): the same for z and c z, so shrinking cannot meet it
        zi = z[:, :a.N]; B = len(zi) // 2
        ln = (((zi[:B] - zi[B:]) ** 2).mean(0) / (zi.var(0) + 1e-6)).mean()
        loss = loss + a.nbr * ln; parts['nbr'] = round(ln.item(), 4)
    return loss, parts

def make_sched(steps):
    if a.sched == 'onecycle':
        return torch.optim.lr_scheduler.OneCycleLR(opt, a.lr, total_steps=steps, pct_start=0.25)
    if a.sched == 'cosine':
        return torch.optim.lr_scheduler.CosineAnnealingLR(opt, steps)
    return torch.optim.lr_scheduler.LambdaLR(opt, lambda s: 1.0)

model.train()
t0 = time.time(); c0 = time.process_time(); step = 0; sched = None; hist = []
total = 0
if a.sched_all:
    assert a.max_steps, '--sched-all needs --max-steps'
    total = a.max_steps; sched = make_sched(total); print('planned steps', total, flush=True)
rng = np.random.default_rng(a.seed)
perm = rng.permutation(idx_all); pi = 0
while True:
    if pi + a.batch > len(perm): perm = rng.permutation(idx_all); pi = 0
    if a.nbr or a.pairs:  # same patterns per step as without the term: batch/2 anchors + their neighbours
        ib = perm[pi:pi + a.batch // 2]; pi += a.batch // 2
        ib = np.concatenate([ib, neighbours(ib, rng)])
    else:
        ib = perm[pi:pi + a.batch]; pi += a.batch
    xb = Xt[ib]
    if a.arch == 'polar':  # random cyclic shift = exact rotation, for the non-invariant features
        xb = torch.roll(xb, int(rng.integers(a.ntheta)), 3)
    loss, parts = step_fn(xb, ib)
    opt.zero_grad(); loss.backward(); opt.step(); step += 1
    if sched: sched.step()
    el = time.time() - t0
    if step == 20 and sched is None:
        total = a.max_steps or int(a.seconds / ((time.process_time() - c0) / 20))
        sched = make_sched(total - 20 + 5)
        print('planned steps', total, flush=True)
    if step % 200 == 0: hist.append((step, round(el, 1), parts)); print(step, round(el, 1), parts, flush=True)
    if step > 20 and step >= total: break
train_s = (time.process_time() - c0) / a.threads; wall_s = time.time() - t0
model.eval(); Z = []
with torch.no_grad():
    for i in range(0, n, 256): Z.append(model.encode(Xt[i:i + 256]))
Z = torch.cat(Z).numpy()
np.save(a.save or '/tmp/Z_%s_%s_s%d.npy' % (os.path.basename(d), a.name, a.seed), Z)
name = a.name or '%s_%s_%d' % (a.arch, a.rot, a.size)
notes = ' '.join(sys.argv[2:]) + ' steps=%d wall=%.0f' % (step, wall_s)
sr = spread_ratio(Z, a.N)
invariant = a.rot != 'none' or a.arch == 'polar'
zss = (False,) if a.report == 'inv' else (False, True)
if invariant:
    for zs in zss:
        report(d, name, Z[:, :a.N], a.seed, train_s, 'inv%d' % a.N, a.mcs, zs, sr, notes)
if a.report == 'all':
    for zs in zss:
        report(d, name, Z, a.seed, train_s, 'all16', a.mcs, zs, sr, notes)
# rotation check: invariance error of the invariant features relative to their spread
with torch.no_grad():
    xb = Xt[:512]
    if a.arch == 'polar': xr = torch.roll(xb, a.ntheta // 7, 3)
    else: xr = rotate(xb, torch.full((512,), 1.0))
    z1 = model.encode(xb).numpy(); z2 = model.encode(xr).numpy()
    print('rel rot err inv', np.abs(z1 - z2)[:, :a.N].mean() / Z[:, :a.N].std(0).mean(),
          'others', np.abs(z1 - z2)[:, a.N:].mean() / Z[:, a.N:].std(0).mean())
