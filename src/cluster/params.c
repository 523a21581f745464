/* The clustering's parameters (include/lcae/cluster.h): the tables of HDBSCAN's and of
 * the smoothing's (defaults, ranges, JSON, the options of lcae cluster and lcae run). */
#include <math.h>
#include <stddef.h>

#include "lcae/cluster.h"

static const char *const selection_names[] = {"eom", "leaf", NULL};
static const char *const nonfinite_names[] = {"error", "noise", NULL};
static const char *const smooth_names[] = {"off", "auto", "on", NULL};

#define ANY 0, 0 /* no range */
#define HDB(field) offsetof(lcae_hdbscan_params, field)
#define SMOOTH(field) offsetof(lcae_smooth_params, field)

/* In the order of the JSON (run.json's "hdbscan"). min_cluster_size: 60, the paper's for
 * 65,536 points; 0 (lcae_min_cluster_size_for) is the command line's default ("the
 * library" in the help: the hdbscan Python package). */
const lcae_option lcae_hdbscan_option_table[] = {
    {"min-cluster-size", NULL, LCAE_OPT_I64, HDB(min_cluster_size), 60, ANY, NULL, "N",
     "smallest cluster (default: scaled with the number of points n, 60 sqrt(n / 65536) "
     "rounded, at least 5: 60 at 65,536 points, the paper's; the library's default is 5)",
     0},
    {"min-samples", NULL, LCAE_OPT_I64, HDB(min_samples), 0, 0, HUGE_VAL, NULL, "K",
     "core distance = distance to the K-th nearest other point, 0: min-cluster-size "
     "(default: min-cluster-size)", 0},
    {"method", NULL, LCAE_OPT_CHOICE, HDB(method), LCAE_SELECT_EOM, ANY, selection_names,
     "eom|leaf", "cluster selection: eom, excess of mass, or leaf, the leaves of the "
     "condensed tree (default)", 0},
    {"epsilon", NULL, LCAE_OPT_DOUBLE, HDB(epsilon), 0, 0, HUGE_VAL, NULL, "E",
     "cluster_selection_epsilon: do not split clusters below distance E (default)", 0},
    {"allow-single-cluster", NULL, LCAE_OPT_BOOL, HDB(allow_single_cluster), 0, ANY, NULL,
     NULL, "let selection return the whole data set as one cluster", 0},
    {"nonfinite", "nonfinite_noise", LCAE_OPT_BOOL, HDB(nonfinite_noise), 0, ANY,
     nonfinite_names, "error|noise",
     "rows with NaN/Inf: an error, or noise with probability 0 as the library (default)", 0},
    {"assign-noise", NULL, LCAE_OPT_BOOL, HDB(assign_noise), 0, ANY, NULL, NULL,
     "also a full map, every noise point in the cluster of its nearest clustered point in "
     "mutual reachability, beside the map with noise (lcae cluster: LABELS_full.npy; lcae "
     "run: labels_full.npy) (default)", 0},
    {0}};

lcae_hdbscan_params lcae_hdbscan_defaults(void)
{
    lcae_hdbscan_params p = {0};
    lcae_options_defaults(lcae_hdbscan_option_table, &p);
    return p;
}

/* In the order of the JSON (run.json's "smooth": the map's treatment in scan space,
 * smoothing before clustering and filling after); the scan's shape is the caller's. */
const lcae_option lcae_smooth_option_table[] = {
    {"smooth", "mode", LCAE_OPT_CHOICE, SMOOTH(mode), LCAE_SMOOTH_OFF, ANY, smooth_names,
     "off|auto|on",
     "average each position's features with its neighbours' before clustering: on, off, "
     "or auto: when the map's noise share (the share of the features' variance that "
     "changes from one position to the next) exceeds --smooth-threshold, as at low dose "
     "(docs/clustering.md) (default)", 0},
    {"smooth-size", "size", LCAE_OPT_INT, SMOOTH(size), 3, 3, HUGE_VAL, NULL, "K",
     "the smoothing window: K x K scan positions, K odd (default)", 0},
    {"smooth-threshold", "auto_threshold", LCAE_OPT_DOUBLE, SMOOTH(auto_threshold),
     LCAE_SMOOTH_AUTO_THRESHOLD, 0, HUGE_VAL, NULL, "T",
     "--smooth auto's threshold on the noise share, 0: 0.03 (default)", 0},
    {"fill-radius", "fill_radius", LCAE_OPT_INT, SMOOTH(fill_radius), 0, 0, 64, NULL, "R",
     "also a filled map: boundaries (bands at most 2R scan pixels wide) and noise given to "
     "the regions around them, as EBSD's grain dilation (lcae cluster: LABELS_filled.npy; "
     "lcae run: labels_filled.npy), and its grain map, each connected piece a grain "
     "(LABELS_grains.npy, labels_grains.npy); 0: none (default)", 0},
    {0}};

void lcae_smooth_defaults(lcae_smooth_params *p)
{
    *p = (lcae_smooth_params){0};
    lcae_options_defaults(lcae_smooth_option_table, p);
}
