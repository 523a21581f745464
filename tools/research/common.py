"""Clustering and scoring through lcae's CLI, and a results log."""
import os, json, subprocess, tempfile, time, csv, numpy as np
LCAE = os.environ.get('LCAE', '/work/main/build/lcae')
if not os.path.exists(LCAE):
    LCAE = '/work/wt/research/build/lcae'
HERE = os.path.dirname(os.path.abspath(__file__))
LOG = os.path.join(HERE, 'results.csv')

def cluster(F, mcs=60, zscore=False):
    """HDBSCAN labels (-1 noise) and the full map (noise assigned, lcae cluster --assign-noise)"""
    F = np.asarray(F, np.float32)
    if zscore:
        F = (F - F.mean(0)) / (F.std(0) + 1e-12)
    with tempfile.TemporaryDirectory() as td:
        np.save(td + '/f.npy', np.ascontiguousarray(F))
        subprocess.run(['nice', '-n', '10', LCAE, 'cluster', td + '/f.npy', '-o', td + '/l.npy',
                        '--min-cluster-size', str(mcs), '--assign-noise', '-q', '--threads', '2'], check=True)
        return np.load(td + '/l.npy'), np.load(td + '/l_full.npy')

def score(labels, truth_path, region_path=None):
    with tempfile.TemporaryDirectory() as td:
        np.save(td + '/l.npy', labels.astype(np.int32))
        cmd = [LCAE, 'score', td + '/l.npy', truth_path, '--json', '-q']
        if region_path: cmd += ['--region', region_path]
        r = subprocess.run(cmd, check=True, capture_output=True, text=True)
        return json.loads(r.stdout)

def evaluate(F, d, mcs=60, zscore=False):
    lab, full = cluster(F, mcs, zscore)
    sc, sg = (score(lab, d + '/truth_%s.npy' % t, d + '/truth_region.npy') for t in ('class', 'grain'))
    fc, fg = (score(full, d + '/truth_%s.npy' % t, d + '/truth_region.npy') for t in ('class', 'grain'))
    return lab, sc, sg, fc['ari'], fg['ari']

def spread_ratio(Z, N):
    s = Z.std(0)
    if N <= 0 or N >= Z.shape[1]: return float('nan')
    return float(s[:N].mean() / s[N:].mean())

FIELDS = ['time', 'data', 'name', 'seed', 'train_s', 'feat', 'zscore', 'mcs', 'clusters', 'noise',
          'ari_class', 'ami_class', 'ari_grain', 'ami_grain', 'frag_class', 'frag_grain',
          'boundary', 'spread_ratio', 'notes', 'ari_class_full', 'ari_grain_full']

def log(row):
    new = not os.path.exists(LOG)
    with open(LOG, 'a', newline='') as f:
        w = csv.DictWriter(f, FIELDS, extrasaction='ignore')
        if new: w.writeheader()
        row = dict(row); row['time'] = time.strftime('%H:%M:%S')
        w.writerow(row)
    print({k: row.get(k) for k in FIELDS if k in row}, flush=True)

def report(d, name, F, seed=0, train_s=0, feat='all', mcs=60, zscore=False, sr=float('nan'), notes=''):
    lab, sc, sg, fc, fg = evaluate(F, d, mcs, zscore)
    def g(s, *ks):
        for k in ks:
            if k in s: return s[k]
        return None
    row = dict(data=os.path.basename(d.rstrip('/')), name=name, seed=seed, train_s=round(train_s, 1),
               feat=feat, zscore=int(zscore), mcs=mcs, clusters=sc.get('clusters'),
               noise=round(sc.get('noise_fraction', float('nan')), 3),
               ari_class=round(sc['ari'], 3), ami_class=round(sc['ami'], 3),
               ari_grain=round(sg['ari'], 3), ami_grain=round(sg['ami'], 3),
               frag_class=round(sc.get('fragmentation', float('nan')), 2),
               frag_grain=round(sg.get('fragmentation', float('nan')), 2),
               boundary=round(sc.get('boundary_recovery', float('nan')), 3),
               spread_ratio=round(sr, 3), notes=notes,
               ari_class_full=round(fc, 3), ari_grain_full=round(fg, 3))
    log(row)
    return row, sc, sg
