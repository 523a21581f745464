/* How patterns are prepared (include/lcae/prep.h), shared by every command that feeds
 * patterns to a model or a feature extractor. */
#include "cli.h"

#include <stdlib.h>

#include "lcae/prep.h"

lcae_prep cli_prep;
const char *cli_beam_map_path;
cli_option cli_prep_options[8];
static cli_field prep_fields[8];

static const cli_option beam_map_option[] = {
    {"beam-map", 0, OPT_STRING, &cli_beam_map_path, "FILE.npy",
     "the beam positions to centre by, (ny, nx, 2) as lcae stats writes them (default: "
     "found in the scan)"},
    {0}};

/* The library's table, but for two defaults: the choices measured best on the
 * simulator's settings (docs/features.md), a log transform of patterns centred on the
 * beam; `lcae run --preset paper` sets the paper's (no transform, no centring). */
void cli_prep_defaults(void)
{
    lcae_options_defaults(lcae_prep_option_table, &cli_prep);
    cli_prep.transform = LCAE_TRANSFORM_LOG;
    cli_prep.center = LCAE_CENTER_BEAM;
    cli_options_from(lcae_prep_option_table, &cli_prep, 0, 0, NULL, cli_prep_options,
                     prep_fields, (int)(sizeof prep_fields / sizeof *prep_fields));
    int n = 0; /* --beam-map after the table's */
    while (cli_prep_options[n].name)
        n++;
    cli_prep_options[n] = beam_map_option[0];
    cli_prep_options[n + 1] = (cli_option){0};
}

int cli_prep_get(lcae_prep *p)
{
    if (cli_beam_map_path && cli_prep.center != LCAE_CENTER_BEAM)
        return cli_error(LCAE_EUSAGE, "option --beam-map: the patterns are not centred "
                         "(--center none)");
    *p = cli_prep;
    return 0;
}

int cli_beam_map(lcae_dataset *ds, lcae_center center, float **map)
{
    *map = NULL;
    if (center != LCAE_CENTER_BEAM)
        return 0;
    int rc = lcae_prep_beam_map(ds, cli_beam_map_path, cli_progress(), map);
    return rc ? cli_fail(rc) : 0;
}
