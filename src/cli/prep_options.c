/* How patterns are prepared (include/lcae/prep.h), shared by every command that feeds
 * patterns to a model or a feature extractor. */
#include "cli.h"

#include <stdlib.h>

#include "lcae/prep.h"

/* Defaults: the choices measured best on the simulator's settings (docs/features.md);
 * `lcae run --preset paper` sets the paper's (no transform, no centring). */
cli_prep_args cli_prep = {.bin = 1, .transform = "log", .center = "beam"};

const cli_option cli_prep_options[] = {
    {"bin", 0, OPT_INT, &cli_prep.bin, "B", "sum-bin the patterns B x B (default 1; models: 1, 2 or 4)"},
    {"crop", 0, OPT_INT, &cli_prep.crop, "H",
     "centre crop of H x H detector pixels before binning (default: none)"},
    {"transform", 0, OPT_STRING, &cli_prep.transform, "none|sqrt|log",
     "intensity transform after binning: log(1 + v), sqrt(v) or none (default log)"},
    {"offset", 0, OPT_DOUBLE, &cli_prep.offset, "ADU",
     "detector offset per pixel, subtracted before the transform (default 0)"},
    {"center", 0, OPT_STRING, &cli_prep.center, "beam|none",
     "shift each pattern so its direct beam is at the frame centre (default beam)"},
    {"beam-map", 0, OPT_STRING, &cli_prep.beam_map, "FILE.npy",
     "the beam positions to centre by, (ny, nx, 2) as lcae stats writes them (default: "
     "found in the scan)"},
    {0}};

int cli_prep_get(lcae_prep *p)
{
    int t = lcae_transform_from_name(cli_prep.transform);
    int c = lcae_center_from_name(cli_prep.center);
    if (t < 0)
        return cli_error(LCAE_EUSAGE, "option --transform: expected none, sqrt or log, found "
                         "'%s'", cli_prep.transform);
    if (c < 0)
        return cli_error(LCAE_EUSAGE, "option --center: expected beam or none, found '%s'",
                         cli_prep.center);
    if (cli_prep.beam_map && c != LCAE_CENTER_BEAM)
        return cli_error(LCAE_EUSAGE, "option --beam-map: the patterns are not centred "
                         "(--center none)");
    *p = (lcae_prep){.crop = cli_prep.crop, .bin = cli_prep.bin, .center = (lcae_center)c,
                     .transform = (lcae_transform)t, .offset = cli_prep.offset};
    return 0;
}

int cli_beam_map(lcae_dataset *ds, lcae_center center, float **map)
{
    *map = NULL;
    if (center != LCAE_CENTER_BEAM)
        return 0;
    int rc = lcae_prep_beam_map(ds, cli_prep.beam_map, cli_progress(), map);
    return rc ? cli_fail(rc) : 0;
}
