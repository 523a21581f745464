/* Clustering scores: ARI and AMI on hand-worked cases and against scikit-learn's
 * adjusted_rand_score / adjusted_mutual_info_score (tests/fixtures/metrics, made by
 * tools/make_metrics_fixtures.py); lcae_score's summary on a hand-worked case, and
 * lcae_score_file on the same case from files (the region map beside the truth). */
#include "test_util.h"

#include <stdint.h>

#include "lcae/io.h"
#include "lcae/score.h"

static void hand_worked(void)
{
    double a, m;
    /* identical up to renaming */
    int32_t t1[6] = {0, 0, 1, 1, 2, 2}, p1[6] = {5, 5, -1, -1, 9, 9};
    CHECK(lcae_adjusted_rand_index(t1, p1, 6, &a) == LCAE_OK);
    CHECK_CLOSE(a, 1.0, 1e-15);
    CHECK(lcae_adjusted_mutual_info(t1, p1, 6, &m) == LCAE_OK);
    CHECK_CLOSE(m, 1.0, 1e-12);
    /* [0 0 1 1] vs [0 0 1 2]: sum C(nij,2) = 1, sum C(a,2) = 2, sum C(b,2) = 1, C(4,2) = 6;
     * expected 2 * 1 / 6 = 1/3, maximum 3/2: ARI = (1 - 1/3) / (3/2 - 1/3) = 4/7 */
    int32_t t2[4] = {0, 0, 1, 1}, p2[4] = {0, 0, 1, 2};
    CHECK(lcae_adjusted_rand_index(t2, p2, 4, &a) == LCAE_OK);
    CHECK_CLOSE(a, 4.0 / 7.0, 1e-14);
    /* [0 0 1 1] vs [0 1 0 1]: every cell holds 1. ARI = (0 - 2/3) / (2 - 2/3) = -1/2.
     * MI = 0; E[MI]: each of the 4 cells takes nij = 1 with probability 4/6 (log 1 = 0)
     * and nij = 2 with probability 1/6, contributing (1/6)(2/4) log 2, so
     * E[MI] = (1/3) log 2 and H = log 2 for both: AMI = -(1/3) / (1 - 1/3) = -1/2 */
    int32_t p3[4] = {0, 1, 0, 1};
    CHECK(lcae_adjusted_rand_index(t2, p3, 4, &a) == LCAE_OK);
    CHECK_CLOSE(a, -0.5, 1e-14);
    CHECK(lcae_adjusted_mutual_info(t2, p3, 4, &m) == LCAE_OK);
    CHECK_CLOSE(m, -0.5, 1e-12);
    /* neither splits the data: a perfect match, as sklearn */
    int32_t one[3] = {4, 4, 4};
    CHECK(lcae_adjusted_mutual_info(one, one, 3, &m) == LCAE_OK);
    CHECK(m == 1.0);
    CHECK(lcae_adjusted_rand_index(one, one, 3, &a) == LCAE_OK);
    CHECK(a == 1.0);
    /* bad input */
    CHECK(lcae_adjusted_rand_index(one, one, 0, &a) == LCAE_EUSAGE);
    CHECK(lcae_adjusted_mutual_info(one, one, -3, &m) == LCAE_EUSAGE);
}

/* labels:  0 0 0 1 1 -1 2 2, truth: 0 0 0 0 1 1 1 1, region: 0 0 0 1 1 1 2 2.
 * 3 clusters, 2 classes: fragmentation 1.5; noise 1/8. Majorities: cluster 0 holds 3 of
 * class 0, cluster 1 one of each (1), cluster 2 two of class 1: purity 6/7. Boundary
 * positions 3, 4, 5: cluster 1 = {3, 4} is all boundary, position 5 is noise:
 * recovery 2/3. */
static void score_hand(void)
{
    int32_t lab[8] = {0, 0, 0, 1, 1, -1, 2, 2}, tru[8] = {0, 0, 0, 0, 1, 1, 1, 1};
    int32_t reg[8] = {0, 0, 0, 1, 1, 1, 2, 2};
    lcae_score_result s;
    CHECK(lcae_score(lab, tru, reg, 8, &s) == LCAE_OK);
    CHECK(s.n == 8 && s.clusters == 3 && s.classes == 2);
    CHECK_CLOSE(s.noise_fraction, 1.0 / 8, 1e-15);
    CHECK_CLOSE(s.fragmentation, 1.5, 1e-15);
    CHECK_CLOSE(s.purity, 6.0 / 7, 1e-15);
    CHECK_CLOSE(s.boundary_recovery, 2.0 / 3, 1e-15);
    double a;
    CHECK(lcae_adjusted_rand_index(tru, lab, 8, &a) == LCAE_OK);
    CHECK(s.ari == a);
    int32_t lab_nn[7] = {0, 0, 0, 1, 1, 2, 2}, tru_nn[7] = {0, 0, 0, 0, 1, 1, 1};
    CHECK(lcae_adjusted_rand_index(tru_nn, lab_nn, 7, &a) == LCAE_OK);
    CHECK(s.ari_no_noise == a);
    CHECK(lcae_score(lab, tru, NULL, 8, &s) == LCAE_OK);
    CHECK(isnan(s.boundary_recovery));
    int32_t noise[3] = {-1, -1, -1}, t3[3] = {0, 1, 1};
    CHECK(lcae_score(noise, t3, NULL, 3, &s) == LCAE_OK);
    CHECK(s.clusters == 0 && s.noise_fraction == 1 && isnan(s.purity) && isnan(s.ari_no_noise));
}

static void write_i32(const char *dir, const char *name, const int32_t *v, int64_t n)
{
    char path[512];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    CHECK(lcae_npy_write(path, LCAE_DT_I32, 1, &n, v) == LCAE_OK);
}

/* The hand-worked case from files: the same numbers as lcae_score's in memory, the
 * region map found beside the truth (or given, or absent), and a labelling of another
 * size refused. */
static void score_files(void)
{
    int32_t lab[8] = {0, 0, 0, 1, 1, -1, 2, 2}, tru[8] = {0, 0, 0, 0, 1, 1, 1, 1};
    int32_t reg[8] = {0, 0, 0, 1, 1, 1, 2, 2};
    char dir[512], sub[600], labels[700], truth[700], alone[700], region[700];
    snprintf(dir, sizeof dir, "%s/score_files", test_tmpdir());
    snprintf(sub, sizeof sub, "%s/alone", dir);
    CHECK(lcae_make_dirs(sub) == LCAE_OK);
    write_i32(dir, "labels.npy", lab, 8);
    write_i32(dir, "truth_class.npy", tru, 8);
    write_i32(dir, "truth_region.npy", reg, 8);
    write_i32(sub, "truth_class.npy", tru, 8);
    write_i32(sub, "short.npy", lab, 7);
    snprintf(labels, sizeof labels, "%s/labels.npy", dir);
    snprintf(truth, sizeof truth, "%s/truth_class.npy", dir);
    snprintf(alone, sizeof alone, "%s/truth_class.npy", sub);
    snprintf(region, sizeof region, "%s/truth_region.npy", dir);
    lcae_score_result mem, f;
    CHECK(lcae_score(lab, tru, reg, 8, &mem) == LCAE_OK);
    CHECK(lcae_score_file(labels, truth, NULL, &f) == LCAE_OK);
    CHECK(f.has_region && f.ari == mem.ari && f.ami == mem.ami &&
          f.boundary_recovery == mem.boundary_recovery && f.purity == mem.purity);
    CHECK(lcae_score_file(labels, alone, NULL, &f) == LCAE_OK);
    CHECK(!f.has_region && isnan(f.boundary_recovery) && f.ari == mem.ari);
    CHECK(lcae_score_file(labels, alone, region, &f) == LCAE_OK);
    CHECK(f.has_region && f.boundary_recovery == mem.boundary_recovery);
    char shorter[700];
    snprintf(shorter, sizeof shorter, "%s/short.npy", sub);
    CHECK(lcae_score_file(shorter, truth, NULL, &f) == LCAE_EFAIL);
    CHECK(strstr(lcae_last_error(), "expected one label per scan position") != NULL);
}

static double parse_num(const char *s)
{
    return strncmp(s, "nan", 3) ? strtod(s, NULL) : NAN;
}

static void against_sklearn(void)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/tests/fixtures/metrics/sklearn_cases.txt",
             test_env("LCAE_SOURCE_DIR"));
    FILE *f = fopen(path, "r");
    CHECK_MSG(f != NULL, "%s missing", path);
    if (!f)
        return;
    char line[256];
    int cases = 0;
    double worst_ari = 0, worst_ami = 0;
    while (fgets(line, sizeof line, f)) {
        if (strncmp(line, "case ", 5))
            continue;
        long n;
        char sa[40], sm[40], san[40], smn[40];
        if (sscanf(line, "case %ld %39s %39s %39s %39s", &n, sa, sm, san, smn) != 5)
            break;
        int32_t *t = malloc((size_t)n * sizeof *t), *p = malloc((size_t)n * sizeof *p);
        for (long i = 0; i < n; i++)
            CHECK(fscanf(f, "%d", &t[i]) == 1);
        for (long i = 0; i < n; i++)
            CHECK(fscanf(f, "%d", &p[i]) == 1);
        double a, m;
        CHECK(lcae_adjusted_rand_index(t, p, n, &a) == LCAE_OK);
        CHECK(lcae_adjusted_mutual_info(t, p, n, &m) == LCAE_OK);
        /* sklearn sums the same terms in another order: agreement to ~1e-12 */
        CHECK_MSG(fabs(a - parse_num(sa)) < 1e-10, "case %d (n %ld): ARI %.15g vs %s", cases, n,
                  a, sa);
        CHECK_MSG(fabs(m - parse_num(sm)) < 1e-9, "case %d (n %ld): AMI %.15g vs %s", cases, n,
                  m, sm);
        worst_ari = fmax(worst_ari, fabs(a - parse_num(sa)));
        worst_ami = fmax(worst_ami, fabs(m - parse_num(sm)));
        lcae_score_result s;
        CHECK(lcae_score(p, t, NULL, n, &s) == LCAE_OK);
        CHECK(s.ari == a && s.ami == m);
        double an = parse_num(san), mn = parse_num(smn);
        if (!isnan(an)) {
            CHECK_MSG(fabs(s.ari_no_noise - an) < 1e-10, "case %d: ARI without noise %.15g vs %s",
                      cases, s.ari_no_noise, san);
            CHECK_MSG(fabs(s.ami_no_noise - mn) < 1e-9, "case %d: AMI without noise %.15g vs %s",
                      cases, s.ami_no_noise, smn);
        }
        free(t);
        free(p);
        cases++;
    }
    fclose(f);
    printf("%d sklearn cases; largest differences: ARI %.3g, AMI %.3g\n", cases, worst_ari,
           worst_ami);
    CHECK(cases == 49);
}

int main(void)
{
    hand_worked();
    score_hand();
    score_files();
    against_sklearn();
    return test_done("test_metrics");
}
