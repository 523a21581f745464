/* lcae: the table of subcommands, global options, help and version. */
#include "cli.h"

#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lcae/mpi.h"

/* Every subcommand, in the order of the flow. */
static const cli_command *const commands[] = {
    &cmd_info,
    &cmd_stats,
    &cmd_train,
    &cmd_encode,
    &cmd_features,
    &cmd_cluster,
    &cmd_simulate,
    &cmd_score,
    &cmd_run,
    NULL};

static const cli_command *find_command(const char *name)
{
    for (int i = 0; commands[i]; i++)
        if (!strcmp(commands[i]->name, name))
            return commands[i];
    return NULL;
}

static void print_usage(FILE *out)
{
    fprintf(out,
            "usage: lcae [--version] [--help] COMMAND [ARGS]\n\n"
            "Finds crystalline grains, grain boundaries and amorphous regions in 4D-STEM\n"
            "scans without labels: a rotation-invariant autoencoder and HDBSCAN.\n\n"
            "commands:\n");
    for (int i = 0; commands[i]; i++)
        fprintf(out, "  %-10s %s\n", commands[i]->name, commands[i]->summary);
    fprintf(out, "\n'lcae help COMMAND' or 'lcae COMMAND --help' for a command's options.\n");
}

static int run_command(int argc, char **argv);

int main(int argc, char **argv)
{
    /* OpenMP threads that spin while they wait for a peer the OS has descheduled make
     * lcae many times slower on a machine that is doing anything else (training a small
     * model on 2 cores under load: 68 s spinning, 2.4 s sleeping). libgomp reads its wait
     * policy when it is loaded, before main, so lcae runs itself again once with
     * OMP_WAIT_POLICY=passive unless the user chose a policy. */
    if (!getenv("OMP_WAIT_POLICY")) {
        setenv("OMP_WAIT_POLICY", "passive", 1);
        execv("/proc/self/exe", argv); /* returns only on failure: go on as we are */
    }
    /* one rank unless started by mpirun or srun (docs/mpi.md) */
    int rc = lcae_mpi_init(&argc, &argv);
    if (rc)
        return cli_fail(rc);
    rc = run_command(argc, argv);
    lcae_mpi_finish(rc);
    return rc;
}

static int run_command(int argc, char **argv)
{
    cli_prep_defaults();
    cli_train_defaults();
    cli_hdbscan_defaults();
    cli_sim_defaults();
    cli_run_defaults();
    cli_features_defaults();
    cli_stats_defaults();
    if (argc < 2) {
        print_usage(stderr);
        return 2;
    }
    const char *name = argv[1];
    if (!strcmp(name, "--help") || !strcmp(name, "-h")) {
        print_usage(stdout);
        return 0;
    }
    if (!strcmp(name, "--version") || !strcmp(name, "version")) {
        printf("lcae %s\n", lcae_version());
        return 0;
    }
    if (!strcmp(name, "help")) {
        if (argc < 3) {
            print_usage(stdout);
            return 0;
        }
        const cli_command *c = find_command(argv[2]);
        if (!c)
            return cli_error(LCAE_EUSAGE, "unknown command '%s' (see 'lcae --help')", argv[2]);
        cli_print_help(c);
        return 0;
    }
    const cli_command *cmd = find_command(name);
    if (!cmd)
        return cli_error(LCAE_EUSAGE, "unknown command '%s' (see 'lcae --help')", name);
    char **pos = calloc((size_t)argc, sizeof *pos);
    if (!pos)
        return cli_error(LCAE_ENOMEM, "out of memory");
    int npos;
    if (cmd->init)
        cmd->init(argc - 1, argv + 1);
    int rc = cli_parse(cmd, argc - 1, argv + 1, pos, &npos);
    if (rc) {
        free(pos);
        return rc < 0 ? 0 : rc;
    }
    if (cli_threads < 0) {
        free(pos);
        return cli_error(LCAE_EUSAGE, "option --threads: expected a positive number, found %d",
                         cli_threads);
    }
    if (cli_threads > 0)
        omp_set_num_threads(cli_threads);
    rc = cmd->run(npos, pos);
    free(pos);
    return rc;
}
