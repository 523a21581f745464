"""The rows of bench/polar_recipe.sh runs: one line per OUT directory given (or found two levels
under a root), class and grain ARI with the full map's, clusters, noise, training CPU seconds.
usage: recipe_table.py DIR...   e.g. recipe_table.py /tmp/recipe/c/*/*"""
import sys, json, os
print('| run | class ARI (full) | grain ARI (full) | clusters | noise | train CPU s |')
print('|---|---|---|---|---|---|')
for d in sys.argv[1:]:
    try:
        s = {k: json.load(open(os.path.join(d, 'score_%s.json' % k)))
             for k in ('class', 'grain', 'class_full', 'grain_full')}
        cpu = open(os.path.join(d, 'time.txt')).read().split()[1]
    except (OSError, ValueError):
        continue
    print('| %s | %.3f (%.3f) | %.3f (%.3f) | %d | %.3f | %s |' % (
        '/'.join(d.rstrip('/').split('/')[-2:]), s['class']['ari'], s['class_full']['ari'],
        s['grain']['ari'], s['grain_full']['ari'], s['class']['clusters'],
        s['class']['noise_fraction'], cpu))
