# Print an optspec for argparse to handle cmd's options that are independent of any subcommand.
function __fish_glctl_global_optspecs
    string join \n e/env= root= database-url= no-color v/verbose h/help V/version
end

function __fish_glctl_needs_command
    # Figure out if the current invocation already has a command.
    set -l cmd (commandline -opc)
    set -e cmd[1]
    argparse -s (__fish_glctl_global_optspecs) -- $cmd 2>/dev/null
    or return
    if set -q argv[1]
        # Also print the command, so this can be used to figure out what it is.
        echo $argv[1]
        return 1
    end
    return 0
end

function __fish_glctl_using_subcommand
    set -l cmd (__fish_glctl_needs_command)
    test -z "$cmd"
    and return 1
    contains -- $cmd[1] $argv
end

complete -c glctl -n "__fish_glctl_needs_command" -s e -l env -d 'Environment, for the commands that take one (also accepted after the subcommand; GLCTL_ENV when neither is given): a name under `environments/` or a path to a YAML file' -r
complete -c glctl -n "__fish_glctl_needs_command" -l root -d 'Project directory holding `environments/`, `templates/` and `sql/` [default: the nearest folder holding `environments/`, from here upwards, as git and cargo find theirs; else `.`]' -r -F
complete -c glctl -n "__fish_glctl_needs_command" -l database-url -d 'Connect the SQL stage here instead of the environment\'s endpoint (postgres://user@host:port/db). Prefer the GLCTL_DATABASE_URL variable: a flag is visible to other users in the process list' -r
complete -c glctl -n "__fish_glctl_needs_command" -l no-color -d 'Never colour output (also when NO_COLOR is set)'
complete -c glctl -n "__fish_glctl_needs_command" -s v -l verbose -d 'On a failure, also print its full account (e.g. what each AWS credential source said)'
complete -c glctl -n "__fish_glctl_needs_command" -s h -l help -d 'Print help'
complete -c glctl -n "__fish_glctl_needs_command" -s V -l version -d 'Print version'
complete -c glctl -n "__fish_glctl_needs_command" -f -a "validate" -d 'Check an environment file (and what it extends) without touching AWS or a database'
complete -c glctl -n "__fish_glctl_needs_command" -f -a "show" -d 'Print the effective (merged, defaulted) configuration of an environment, secrets redacted'
complete -c glctl -n "__fish_glctl_needs_command" -f -a "render" -d 'Render the environment\'s Terraform into a directory (default `.glctl/ENV/`) without running it'
complete -c glctl -n "__fish_glctl_needs_command" -f -a "plan" -d 'Render, `terraform init` and `terraform plan`, then summarise what would change, by module; then the pending migrations and the policy changes, when the database is reachable'
complete -c glctl -n "__fish_glctl_needs_command" -f -a "apply" -d 'Apply the saved plan (re-planning only when it is stale), then the migrations and the time-series policies'
complete -c glctl -n "__fish_glctl_needs_command" -f -a "migrate" -d 'Versioned SQL migrations (`sql/migrations/`): their status, apply the pending ones, lint them, or rehearse them under an application workload'
complete -c glctl -n "__fish_glctl_needs_command" -f -a "verify" -d 'Check the environment against the acceptance criteria of PRD §10, each with its evidence'
complete -c glctl -n "__fish_glctl_needs_command" -f -a "promote" -d 'Promote what was verified in SRC to DST: the gates, DST\'s plan and the environment diff, then apply, verify DST and write a promotion record'
complete -c glctl -n "__fish_glctl_needs_command" -f -a "drift" -d 'What changed outside glctl: infrastructure, migration ledger, policies and the objects the migrations made, each a list of named differences'
complete -c glctl -n "__fish_glctl_needs_command" -f -a "bench" -d 'Measure ingest throughput, query latency and sessions through the pooler (PB-01…PB-08) in a scratch schema that is dropped afterwards, also on Ctrl-C; a production environment needs --allow-production'
complete -c glctl -n "__fish_glctl_needs_command" -f -a "upgrade" -d 'Engine and extension upgrades: check the live database\'s readiness for a version, or plan the steps'
complete -c glctl -n "__fish_glctl_needs_command" -f -a "engines" -d 'Print what each engine and time-series backend can do (the capability table)'
complete -c glctl -n "__fish_glctl_needs_command" -f -a "fields" -d 'Print the reference of every environment field (generated from the model), or the fields under PATH'
complete -c glctl -n "__fish_glctl_needs_command" -f -a "completions" -d 'Print a shell completion script for bash, zsh or fish'
complete -c glctl -n "__fish_glctl_needs_command" -f -a "man" -d 'Print glctl\'s man page (roff); the same page is checked in as docs/man/glctl.1'
complete -c glctl -n "__fish_glctl_needs_command" -f -a "schema" -d 'Print the JSON Schema of an environment file, for editors (yaml-language-server) and CI'
complete -c glctl -n "__fish_glctl_needs_command" -f -a "init" -d 'Write a new environment file `environments/NAME.yaml` that extends ENV\'s layer, with the fields that must differ marked, and validate it. Never overwrites'
complete -c glctl -n "__fish_glctl_needs_command" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c glctl -n "__fish_glctl_using_subcommand validate" -s e -l env -d 'Environment: a name under `environments/` (dev, staging, prod, local) or a path to a YAML file. Default: GLCTL_ENV' -r
complete -c glctl -n "__fish_glctl_using_subcommand validate" -l output -d 'Output format' -r -f -a "text\t''
json\t''"
complete -c glctl -n "__fish_glctl_using_subcommand validate" -l root -d 'Project directory holding `environments/`, `templates/` and `sql/` [default: the nearest folder holding `environments/`, from here upwards, as git and cargo find theirs; else `.`]' -r -F
complete -c glctl -n "__fish_glctl_using_subcommand validate" -l database-url -d 'Connect the SQL stage here instead of the environment\'s endpoint (postgres://user@host:port/db). Prefer the GLCTL_DATABASE_URL variable: a flag is visible to other users in the process list' -r
complete -c glctl -n "__fish_glctl_using_subcommand validate" -l all -d 'Validate every environment under `environments/` instead of `-e`'
complete -c glctl -n "__fish_glctl_using_subcommand validate" -l no-color -d 'Never colour output (also when NO_COLOR is set)'
complete -c glctl -n "__fish_glctl_using_subcommand validate" -s v -l verbose -d 'On a failure, also print its full account (e.g. what each AWS credential source said)'
complete -c glctl -n "__fish_glctl_using_subcommand validate" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c glctl -n "__fish_glctl_using_subcommand show" -s e -l env -d 'Environment: a name under `environments/` (dev, staging, prod, local) or a path to a YAML file. Default: GLCTL_ENV' -r
complete -c glctl -n "__fish_glctl_using_subcommand show" -l output -d 'Output format' -r -f -a "yaml\t''
json\t''"
complete -c glctl -n "__fish_glctl_using_subcommand show" -l root -d 'Project directory holding `environments/`, `templates/` and `sql/` [default: the nearest folder holding `environments/`, from here upwards, as git and cargo find theirs; else `.`]' -r -F
complete -c glctl -n "__fish_glctl_using_subcommand show" -l database-url -d 'Connect the SQL stage here instead of the environment\'s endpoint (postgres://user@host:port/db). Prefer the GLCTL_DATABASE_URL variable: a flag is visible to other users in the process list' -r
complete -c glctl -n "__fish_glctl_using_subcommand show" -l no-color -d 'Never colour output (also when NO_COLOR is set)'
complete -c glctl -n "__fish_glctl_using_subcommand show" -s v -l verbose -d 'On a failure, also print its full account (e.g. what each AWS credential source said)'
complete -c glctl -n "__fish_glctl_using_subcommand show" -s h -l help -d 'Print help'
complete -c glctl -n "__fish_glctl_using_subcommand render" -s e -l env -d 'Environment: a name under `environments/` (dev, staging, prod, local) or a path to a YAML file. Default: GLCTL_ENV' -r
complete -c glctl -n "__fish_glctl_using_subcommand render" -l out -d 'Directory to render into' -r -F
complete -c glctl -n "__fish_glctl_using_subcommand render" -l output -d 'Output format of what was written' -r -f -a "text\t''
json\t''"
complete -c glctl -n "__fish_glctl_using_subcommand render" -l root -d 'Project directory holding `environments/`, `templates/` and `sql/` [default: the nearest folder holding `environments/`, from here upwards, as git and cargo find theirs; else `.`]' -r -F
complete -c glctl -n "__fish_glctl_using_subcommand render" -l database-url -d 'Connect the SQL stage here instead of the environment\'s endpoint (postgres://user@host:port/db). Prefer the GLCTL_DATABASE_URL variable: a flag is visible to other users in the process list' -r
complete -c glctl -n "__fish_glctl_using_subcommand render" -l no-color -d 'Never colour output (also when NO_COLOR is set)'
complete -c glctl -n "__fish_glctl_using_subcommand render" -s v -l verbose -d 'On a failure, also print its full account (e.g. what each AWS credential source said)'
complete -c glctl -n "__fish_glctl_using_subcommand render" -s h -l help -d 'Print help'
complete -c glctl -n "__fish_glctl_using_subcommand plan" -s e -l env -d 'Environment: a name under `environments/` (dev, staging, prod, local) or a path to a YAML file. Default: GLCTL_ENV' -r
complete -c glctl -n "__fish_glctl_using_subcommand plan" -l out -d 'Directory to render and plan in' -r -F
complete -c glctl -n "__fish_glctl_using_subcommand plan" -l output -d 'Output format of the summary' -r -f -a "text\t''
json\t''"
complete -c glctl -n "__fish_glctl_using_subcommand plan" -l only -d 'Plan one stage only: `infra` (Terraform) or `database` (migrations and policies)' -r -f -a "infra\t'Terraform: the cluster, keys, secrets, network access, alarms, backups'
database\t'SQL migrations, then the time-series policies: TimescaleDB\'s, or pg_partman\'s partition upkeep and retention run by pg_cron (the native backend)'"
complete -c glctl -n "__fish_glctl_using_subcommand plan" -l root -d 'Project directory holding `environments/`, `templates/` and `sql/` [default: the nearest folder holding `environments/`, from here upwards, as git and cargo find theirs; else `.`]' -r -F
complete -c glctl -n "__fish_glctl_using_subcommand plan" -l database-url -d 'Connect the SQL stage here instead of the environment\'s endpoint (postgres://user@host:port/db). Prefer the GLCTL_DATABASE_URL variable: a flag is visible to other users in the process list' -r
complete -c glctl -n "__fish_glctl_using_subcommand plan" -l detailed-exitcode -d 'Exit 1 when the plan has changes and 0 when it has none. (glctl\'s codes, not terraform\'s: 2 is a configuration error, and 3 says part of the plan could not be checked, with or without this flag.)'
complete -c glctl -n "__fish_glctl_using_subcommand plan" -l no-color -d 'Never colour output (also when NO_COLOR is set)'
complete -c glctl -n "__fish_glctl_using_subcommand plan" -s v -l verbose -d 'On a failure, also print its full account (e.g. what each AWS credential source said)'
complete -c glctl -n "__fish_glctl_using_subcommand plan" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c glctl -n "__fish_glctl_using_subcommand apply" -s e -l env -d 'Environment: a name under `environments/` (dev, staging, prod, local) or a path to a YAML file. Default: GLCTL_ENV' -r
complete -c glctl -n "__fish_glctl_using_subcommand apply" -l out -d 'Directory holding the rendered module and saved plan' -r -F
complete -c glctl -n "__fish_glctl_using_subcommand apply" -l only -d 'Run one stage only: `infra` (Terraform) or `database` (migrations, then policies; with `--database-url` also for a database glctl does not provision)' -r -f -a "infra\t'Terraform: the cluster, keys, secrets, network access, alarms, backups'
database\t'SQL migrations, then the time-series policies: TimescaleDB\'s, or pg_partman\'s partition upkeep and retention run by pg_cron (the native backend)'"
complete -c glctl -n "__fish_glctl_using_subcommand apply" -l lock-timeout -d 'Seconds to wait for another glctl applying migrations to the same database' -r
complete -c glctl -n "__fish_glctl_using_subcommand apply" -l root -d 'Project directory holding `environments/`, `templates/` and `sql/` [default: the nearest folder holding `environments/`, from here upwards, as git and cargo find theirs; else `.`]' -r -F
complete -c glctl -n "__fish_glctl_using_subcommand apply" -l database-url -d 'Connect the SQL stage here instead of the environment\'s endpoint (postgres://user@host:port/db). Prefer the GLCTL_DATABASE_URL variable: a flag is visible to other users in the process list' -r
complete -c glctl -n "__fish_glctl_using_subcommand apply" -l yes -d 'Apply without asking (required when not on a terminal)'
complete -c glctl -n "__fish_glctl_using_subcommand apply" -l allow-destroy -d 'Allow replacing or destroying stateful resources (cluster, instances, KMS key, secrets)'
complete -c glctl -n "__fish_glctl_using_subcommand apply" -l allow-out-of-order -d 'Run a new migration even though it is numbered below the last applied one'
complete -c glctl -n "__fish_glctl_using_subcommand apply" -l allow-engine-upgrade -d 'Allow the plan to change a production environment\'s engine version (`glctl plan` names the change)'
complete -c glctl -n "__fish_glctl_using_subcommand apply" -l no-color -d 'Never colour output (also when NO_COLOR is set)'
complete -c glctl -n "__fish_glctl_using_subcommand apply" -s v -l verbose -d 'On a failure, also print its full account (e.g. what each AWS credential source said)'
complete -c glctl -n "__fish_glctl_using_subcommand apply" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c glctl -n "__fish_glctl_using_subcommand migrate; and not __fish_seen_subcommand_from status apply lint rehearse help" -s e -l env -d 'Environment: a name under `environments/` or a path to a YAML file. Default: GLCTL_ENV' -r
complete -c glctl -n "__fish_glctl_using_subcommand migrate; and not __fish_seen_subcommand_from status apply lint rehearse help" -l lock-timeout -d 'Seconds to wait for another glctl applying migrations to the same database' -r
complete -c glctl -n "__fish_glctl_using_subcommand migrate; and not __fish_seen_subcommand_from status apply lint rehearse help" -l root -d 'Project directory holding `environments/`, `templates/` and `sql/` [default: the nearest folder holding `environments/`, from here upwards, as git and cargo find theirs; else `.`]' -r -F
complete -c glctl -n "__fish_glctl_using_subcommand migrate; and not __fish_seen_subcommand_from status apply lint rehearse help" -l database-url -d 'Connect the SQL stage here instead of the environment\'s endpoint (postgres://user@host:port/db). Prefer the GLCTL_DATABASE_URL variable: a flag is visible to other users in the process list' -r
complete -c glctl -n "__fish_glctl_using_subcommand migrate; and not __fish_seen_subcommand_from status apply lint rehearse help" -l allow-out-of-order -d 'With `apply`: run a new migration even though it is numbered below the last applied one'
complete -c glctl -n "__fish_glctl_using_subcommand migrate; and not __fish_seen_subcommand_from status apply lint rehearse help" -l no-color -d 'Never colour output (also when NO_COLOR is set)'
complete -c glctl -n "__fish_glctl_using_subcommand migrate; and not __fish_seen_subcommand_from status apply lint rehearse help" -s v -l verbose -d 'On a failure, also print its full account (e.g. what each AWS credential source said)'
complete -c glctl -n "__fish_glctl_using_subcommand migrate; and not __fish_seen_subcommand_from status apply lint rehearse help" -s h -l help -d 'Print help'
complete -c glctl -n "__fish_glctl_using_subcommand migrate; and not __fish_seen_subcommand_from status apply lint rehearse help" -f -a "status" -d 'Applied, pending, changed and missing migrations; exit 1 when not up to date'
complete -c glctl -n "__fish_glctl_using_subcommand migrate; and not __fish_seen_subcommand_from status apply lint rehearse help" -f -a "apply" -d 'Apply the pending migrations in order, each in its own transaction'
complete -c glctl -n "__fish_glctl_using_subcommand migrate; and not __fish_seen_subcommand_from status apply lint rehearse help" -f -a "lint" -d 'Parse every migration with PostgreSQL\'s grammar and report statements that would block the application (located FILE:LINE:COL, with a rule ID and the safe recipe); exit 2 on an error. Needs no database'
complete -c glctl -n "__fish_glctl_using_subcommand migrate; and not __fish_seen_subcommand_from status apply lint rehearse help" -f -a "rehearse" -d 'Apply the pending migrations to a scratch copy of the target (its schema, generated rows over N partitions) under an application workload, sampling locks every few ms: per statement the locks, its duration and retries, and how long the application was blocked. Exit 1 when a statement stalls the application longer than `migrations.max_blocking`, 3 when it could not be measured'
complete -c glctl -n "__fish_glctl_using_subcommand migrate; and not __fish_seen_subcommand_from status apply lint rehearse help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c glctl -n "__fish_glctl_using_subcommand migrate; and __fish_seen_subcommand_from status" -l output -d 'Output format' -r -f -a "text\t''
json\t''"
complete -c glctl -n "__fish_glctl_using_subcommand migrate; and __fish_seen_subcommand_from status" -s e -l env -d 'Environment: a name under `environments/` or a path to a YAML file. Default: GLCTL_ENV' -r
complete -c glctl -n "__fish_glctl_using_subcommand migrate; and __fish_seen_subcommand_from status" -l lock-timeout -d 'Seconds to wait for another glctl applying migrations to the same database' -r
complete -c glctl -n "__fish_glctl_using_subcommand migrate; and __fish_seen_subcommand_from status" -l root -d 'Project directory holding `environments/`, `templates/` and `sql/` [default: the nearest folder holding `environments/`, from here upwards, as git and cargo find theirs; else `.`]' -r -F
complete -c glctl -n "__fish_glctl_using_subcommand migrate; and __fish_seen_subcommand_from status" -l database-url -d 'Connect the SQL stage here instead of the environment\'s endpoint (postgres://user@host:port/db). Prefer the GLCTL_DATABASE_URL variable: a flag is visible to other users in the process list' -r
complete -c glctl -n "__fish_glctl_using_subcommand migrate; and __fish_seen_subcommand_from status" -l allow-out-of-order -d 'With `apply`: run a new migration even though it is numbered below the last applied one'
complete -c glctl -n "__fish_glctl_using_subcommand migrate; and __fish_seen_subcommand_from status" -l no-color -d 'Never colour output (also when NO_COLOR is set)'
complete -c glctl -n "__fish_glctl_using_subcommand migrate; and __fish_seen_subcommand_from status" -s v -l verbose -d 'On a failure, also print its full account (e.g. what each AWS credential source said)'
complete -c glctl -n "__fish_glctl_using_subcommand migrate; and __fish_seen_subcommand_from status" -s h -l help -d 'Print help'
complete -c glctl -n "__fish_glctl_using_subcommand migrate; and __fish_seen_subcommand_from apply" -l output -d 'Output format' -r -f -a "text\t''
json\t''"
complete -c glctl -n "__fish_glctl_using_subcommand migrate; and __fish_seen_subcommand_from apply" -s e -l env -d 'Environment: a name under `environments/` or a path to a YAML file. Default: GLCTL_ENV' -r
complete -c glctl -n "__fish_glctl_using_subcommand migrate; and __fish_seen_subcommand_from apply" -l lock-timeout -d 'Seconds to wait for another glctl applying migrations to the same database' -r
complete -c glctl -n "__fish_glctl_using_subcommand migrate; and __fish_seen_subcommand_from apply" -l root -d 'Project directory holding `environments/`, `templates/` and `sql/` [default: the nearest folder holding `environments/`, from here upwards, as git and cargo find theirs; else `.`]' -r -F
complete -c glctl -n "__fish_glctl_using_subcommand migrate; and __fish_seen_subcommand_from apply" -l database-url -d 'Connect the SQL stage here instead of the environment\'s endpoint (postgres://user@host:port/db). Prefer the GLCTL_DATABASE_URL variable: a flag is visible to other users in the process list' -r
complete -c glctl -n "__fish_glctl_using_subcommand migrate; and __fish_seen_subcommand_from apply" -l dry-run -d 'Print what would run, run nothing'
complete -c glctl -n "__fish_glctl_using_subcommand migrate; and __fish_seen_subcommand_from apply" -l allow-out-of-order -d 'With `apply`: run a new migration even though it is numbered below the last applied one'
complete -c glctl -n "__fish_glctl_using_subcommand migrate; and __fish_seen_subcommand_from apply" -l no-color -d 'Never colour output (also when NO_COLOR is set)'
complete -c glctl -n "__fish_glctl_using_subcommand migrate; and __fish_seen_subcommand_from apply" -s v -l verbose -d 'On a failure, also print its full account (e.g. what each AWS credential source said)'
complete -c glctl -n "__fish_glctl_using_subcommand migrate; and __fish_seen_subcommand_from apply" -s h -l help -d 'Print help'
complete -c glctl -n "__fish_glctl_using_subcommand migrate; and __fish_seen_subcommand_from lint" -l output -d 'Output format' -r -f -a "text\t''
json\t''"
complete -c glctl -n "__fish_glctl_using_subcommand migrate; and __fish_seen_subcommand_from lint" -s e -l env -d 'Environment: a name under `environments/` or a path to a YAML file. Default: GLCTL_ENV' -r
complete -c glctl -n "__fish_glctl_using_subcommand migrate; and __fish_seen_subcommand_from lint" -l lock-timeout -d 'Seconds to wait for another glctl applying migrations to the same database' -r
complete -c glctl -n "__fish_glctl_using_subcommand migrate; and __fish_seen_subcommand_from lint" -l root -d 'Project directory holding `environments/`, `templates/` and `sql/` [default: the nearest folder holding `environments/`, from here upwards, as git and cargo find theirs; else `.`]' -r -F
complete -c glctl -n "__fish_glctl_using_subcommand migrate; and __fish_seen_subcommand_from lint" -l database-url -d 'Connect the SQL stage here instead of the environment\'s endpoint (postgres://user@host:port/db). Prefer the GLCTL_DATABASE_URL variable: a flag is visible to other users in the process list' -r
complete -c glctl -n "__fish_glctl_using_subcommand migrate; and __fish_seen_subcommand_from lint" -l allow-out-of-order -d 'With `apply`: run a new migration even though it is numbered below the last applied one'
complete -c glctl -n "__fish_glctl_using_subcommand migrate; and __fish_seen_subcommand_from lint" -l no-color -d 'Never colour output (also when NO_COLOR is set)'
complete -c glctl -n "__fish_glctl_using_subcommand migrate; and __fish_seen_subcommand_from lint" -s v -l verbose -d 'On a failure, also print its full account (e.g. what each AWS credential source said)'
complete -c glctl -n "__fish_glctl_using_subcommand migrate; and __fish_seen_subcommand_from lint" -s h -l help -d 'Print help'
complete -c glctl -n "__fish_glctl_using_subcommand migrate; and __fish_seen_subcommand_from rehearse" -l output -d 'Output format' -r -f -a "text\t''
json\t''"
complete -c glctl -n "__fish_glctl_using_subcommand migrate; and __fish_seen_subcommand_from rehearse" -l rows -d 'Rows of emission_measurements generated into the scratch copy' -r
complete -c glctl -n "__fish_glctl_using_subcommand migrate; and __fish_seen_subcommand_from rehearse" -l partitions -d 'Partitions the rows are spread over (besides the target\'s own and its default partition)' -r
complete -c glctl -n "__fish_glctl_using_subcommand migrate; and __fish_seen_subcommand_from rehearse" -l sessions -d 'Application sessions (even ones ingest, odd ones query)' -r
complete -c glctl -n "__fish_glctl_using_subcommand migrate; and __fish_seen_subcommand_from rehearse" -l rate -d 'Operations per second of each session, open loop; 0: as fast as each can (closed loop)' -r
complete -c glctl -n "__fish_glctl_using_subcommand migrate; and __fish_seen_subcommand_from rehearse" -l duration -d 'Seconds of each baseline window before the migrations (the workload alone, then with the sampler)' -r
complete -c glctl -n "__fish_glctl_using_subcommand migrate; and __fish_seen_subcommand_from rehearse" -l sample-ms -d 'Milliseconds between lock samples (at most 50)' -r
complete -c glctl -n "__fish_glctl_using_subcommand migrate; and __fish_seen_subcommand_from rehearse" -s e -l env -d 'Environment: a name under `environments/` or a path to a YAML file. Default: GLCTL_ENV' -r
complete -c glctl -n "__fish_glctl_using_subcommand migrate; and __fish_seen_subcommand_from rehearse" -l lock-timeout -d 'Seconds to wait for another glctl applying migrations to the same database' -r
complete -c glctl -n "__fish_glctl_using_subcommand migrate; and __fish_seen_subcommand_from rehearse" -l root -d 'Project directory holding `environments/`, `templates/` and `sql/` [default: the nearest folder holding `environments/`, from here upwards, as git and cargo find theirs; else `.`]' -r -F
complete -c glctl -n "__fish_glctl_using_subcommand migrate; and __fish_seen_subcommand_from rehearse" -l database-url -d 'Connect the SQL stage here instead of the environment\'s endpoint (postgres://user@host:port/db). Prefer the GLCTL_DATABASE_URL variable: a flag is visible to other users in the process list' -r
complete -c glctl -n "__fish_glctl_using_subcommand migrate; and __fish_seen_subcommand_from rehearse" -l allow-production -d 'Run it against a production-tier environment (a scratch database on its server, dropped afterwards)'
complete -c glctl -n "__fish_glctl_using_subcommand migrate; and __fish_seen_subcommand_from rehearse" -l unlogged -d 'Make the scratch copy\'s data partitions UNLOGGED: a faster load and rewrite (no WAL, no replication), the same locks, shorter durations than the target would see'
complete -c glctl -n "__fish_glctl_using_subcommand migrate; and __fish_seen_subcommand_from rehearse" -l allow-out-of-order -d 'With `apply`: run a new migration even though it is numbered below the last applied one'
complete -c glctl -n "__fish_glctl_using_subcommand migrate; and __fish_seen_subcommand_from rehearse" -l no-color -d 'Never colour output (also when NO_COLOR is set)'
complete -c glctl -n "__fish_glctl_using_subcommand migrate; and __fish_seen_subcommand_from rehearse" -s v -l verbose -d 'On a failure, also print its full account (e.g. what each AWS credential source said)'
complete -c glctl -n "__fish_glctl_using_subcommand migrate; and __fish_seen_subcommand_from rehearse" -s h -l help -d 'Print help'
complete -c glctl -n "__fish_glctl_using_subcommand migrate; and __fish_seen_subcommand_from help" -f -a "status" -d 'Applied, pending, changed and missing migrations; exit 1 when not up to date'
complete -c glctl -n "__fish_glctl_using_subcommand migrate; and __fish_seen_subcommand_from help" -f -a "apply" -d 'Apply the pending migrations in order, each in its own transaction'
complete -c glctl -n "__fish_glctl_using_subcommand migrate; and __fish_seen_subcommand_from help" -f -a "lint" -d 'Parse every migration with PostgreSQL\'s grammar and report statements that would block the application (located FILE:LINE:COL, with a rule ID and the safe recipe); exit 2 on an error. Needs no database'
complete -c glctl -n "__fish_glctl_using_subcommand migrate; and __fish_seen_subcommand_from help" -f -a "rehearse" -d 'Apply the pending migrations to a scratch copy of the target (its schema, generated rows over N partitions) under an application workload, sampling locks every few ms: per statement the locks, its duration and retries, and how long the application was blocked. Exit 1 when a statement stalls the application longer than `migrations.max_blocking`, 3 when it could not be measured'
complete -c glctl -n "__fish_glctl_using_subcommand migrate; and __fish_seen_subcommand_from help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c glctl -n "__fish_glctl_using_subcommand verify" -s e -l env -d 'Environment: a name under `environments/` (dev, staging, prod, local) or a path to a YAML file. Default: GLCTL_ENV' -r
complete -c glctl -n "__fish_glctl_using_subcommand verify" -l out -d 'Directory holding the environment\'s Terraform outputs (default `.glctl/ENV/`)' -r -F
complete -c glctl -n "__fish_glctl_using_subcommand verify" -l output -d 'What to print on stdout (with --list: text or json). `--format` is the old name, still accepted (hidden) until glctl 0.2' -r -f -a "text\t'The table (`table` is the old name, still accepted)'
json\t''
junit\t''
markdown\t''"
complete -c glctl -n "__fish_glctl_using_subcommand verify" -l report -d 'Also write a report, e.g. `--report junit=verify.xml --report markdown=signoff.md` (repeatable)' -r
complete -c glctl -n "__fish_glctl_using_subcommand verify" -l only -d 'Run only these checks: IDs or prefixes, comma-separated (`ST-,FA-01`)' -r
complete -c glctl -n "__fish_glctl_using_subcommand verify" -l skip -d 'Leave these checks out: IDs or prefixes, comma-separated' -r
complete -c glctl -n "__fish_glctl_using_subcommand verify" -l pooler-url -d 'The PgBouncers (FA-09, PB-07, PB-08, HA-05), as one multi-host URL (postgres://user:pw@h1:p1,h2:p2/db); bench\'s connections scenario goes through them. Prefer the variable: a flag is visible in the process list' -r
complete -c glctl -n "__fish_glctl_using_subcommand verify" -l pooler-admin-url -d 'The PgBouncers\' admin console (the same hosts, an admin user, database pgbouncer), for SHOW POOLS/STATS' -r
complete -c glctl -n "__fish_glctl_using_subcommand verify" -l root -d 'Project directory holding `environments/`, `templates/` and `sql/` [default: the nearest folder holding `environments/`, from here upwards, as git and cargo find theirs; else `.`]' -r -F
complete -c glctl -n "__fish_glctl_using_subcommand verify" -l database-url -d 'Connect the SQL stage here instead of the environment\'s endpoint (postgres://user@host:port/db). Prefer the GLCTL_DATABASE_URL variable: a flag is visible to other users in the process list' -r
complete -c glctl -n "__fish_glctl_using_subcommand verify" -l drills -d 'Run the drills that change the target (failover, restore)'
complete -c glctl -n "__fish_glctl_using_subcommand verify" -l allow-production -d 'Let drills and benchmarks run against a production tier (a failover moves its writer; a restore drill costs money but never touches the source; bench loads it). Drills also run where the file declares `acceptance.drills: allowed`'
complete -c glctl -n "__fish_glctl_using_subcommand verify" -l bench -d 'Run the performance benchmarks (PB-*)'
complete -c glctl -n "__fish_glctl_using_subcommand verify" -l list -d 'List the checks and exit'
complete -c glctl -n "__fish_glctl_using_subcommand verify" -l no-color -d 'Never colour output (also when NO_COLOR is set)'
complete -c glctl -n "__fish_glctl_using_subcommand verify" -s v -l verbose -d 'On a failure, also print its full account (e.g. what each AWS credential source said)'
complete -c glctl -n "__fish_glctl_using_subcommand verify" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c glctl -n "__fish_glctl_using_subcommand promote" -l from -d 'The environment whose verified bundle is promoted' -r
complete -c glctl -n "__fish_glctl_using_subcommand promote" -l to -d 'The environment promoted into (its `promotion.from` must be SRC)' -r
complete -c glctl -n "__fish_glctl_using_subcommand promote" -l out -d 'DST\'s work directory (default `.glctl/DST/`)' -r -F
complete -c glctl -n "__fish_glctl_using_subcommand promote" -l source-out -d 'SRC\'s work directory, where its verify runs are (default `.glctl/SRC/`)' -r -F
complete -c glctl -n "__fish_glctl_using_subcommand promote" -l lock-timeout -d 'Seconds to wait for another promotion into DST, or a glctl applying migrations there' -r
complete -c glctl -n "__fish_glctl_using_subcommand promote" -l report -d 'Reports of DST\'s verify, as `glctl verify --report` (repeatable)' -r
complete -c glctl -n "__fish_glctl_using_subcommand promote" -l output -d 'Output format: `json` prints one document at the end (the progress goes to stderr)' -r -f -a "text\t''
json\t''"
complete -c glctl -n "__fish_glctl_using_subcommand promote" -l root -d 'Project directory holding `environments/`, `templates/` and `sql/` [default: the nearest folder holding `environments/`, from here upwards, as git and cargo find theirs; else `.`]' -r -F
complete -c glctl -n "__fish_glctl_using_subcommand promote" -l database-url -d 'Connect the SQL stage here instead of the environment\'s endpoint (postgres://user@host:port/db). Prefer the GLCTL_DATABASE_URL variable: a flag is visible to other users in the process list' -r
complete -c glctl -n "__fish_glctl_using_subcommand promote" -l yes -d 'Promote without asking (required when not on a terminal)'
complete -c glctl -n "__fish_glctl_using_subcommand promote" -l allow-destroy -d 'Allow a DST plan that replaces or destroys stateful resources or drops data sooner'
complete -c glctl -n "__fish_glctl_using_subcommand promote" -l strict -d 'Refuse when SRC and DST differ in a field DST\'s `promotion.differs` does not declare'
complete -c glctl -n "__fish_glctl_using_subcommand promote" -l no-color -d 'Never colour output (also when NO_COLOR is set)'
complete -c glctl -n "__fish_glctl_using_subcommand promote" -s v -l verbose -d 'On a failure, also print its full account (e.g. what each AWS credential source said)'
complete -c glctl -n "__fish_glctl_using_subcommand promote" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c glctl -n "__fish_glctl_using_subcommand drift" -s e -l env -d 'Environment: a name under `environments/` (dev, staging, prod, local) or a path to a YAML file. Default: GLCTL_ENV' -r
complete -c glctl -n "__fish_glctl_using_subcommand drift" -l out -d 'Directory holding the environment\'s rendered module and Terraform state (default `.glctl/ENV/`)' -r -F
complete -c glctl -n "__fish_glctl_using_subcommand drift" -l output -d 'Output format' -r -f -a "text\t''
json\t''"
complete -c glctl -n "__fish_glctl_using_subcommand drift" -l only -d 'Read one stage only: `infra` (Terraform) or `database` (ledger, policies, objects)' -r -f -a "infra\t'Terraform: the cluster, keys, secrets, network access, alarms, backups'
database\t'SQL migrations, then the time-series policies: TimescaleDB\'s, or pg_partman\'s partition upkeep and retention run by pg_cron (the native backend)'"
complete -c glctl -n "__fish_glctl_using_subcommand drift" -l lock-timeout -d 'Seconds to wait for a glctl applying migrations to the same database' -r
complete -c glctl -n "__fish_glctl_using_subcommand drift" -l root -d 'Project directory holding `environments/`, `templates/` and `sql/` [default: the nearest folder holding `environments/`, from here upwards, as git and cargo find theirs; else `.`]' -r -F
complete -c glctl -n "__fish_glctl_using_subcommand drift" -l database-url -d 'Connect the SQL stage here instead of the environment\'s endpoint (postgres://user@host:port/db). Prefer the GLCTL_DATABASE_URL variable: a flag is visible to other users in the process list' -r
complete -c glctl -n "__fish_glctl_using_subcommand drift" -l no-color -d 'Never colour output (also when NO_COLOR is set)'
complete -c glctl -n "__fish_glctl_using_subcommand drift" -s v -l verbose -d 'On a failure, also print its full account (e.g. what each AWS credential source said)'
complete -c glctl -n "__fish_glctl_using_subcommand drift" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c glctl -n "__fish_glctl_using_subcommand bench" -s e -l env -d 'Environment: a name under `environments/` (dev, staging, prod, local) or a path to a YAML file. Default: GLCTL_ENV' -r
complete -c glctl -n "__fish_glctl_using_subcommand bench" -l scenario -d 'Scenarios to run (repeatable): `ingest` (PB-01, PB-02), `queries` (PB-03…PB-06) and `connections` (PB-07 sessions held, PB-08 acquisition through the PgBouncers of --pooler-url)' -r -f -a "ingest\t''
queries\t''
connections\t''"
complete -c glctl -n "__fish_glctl_using_subcommand bench" -l table -d 'Tables to ingest into (repeatable; default both)' -r -f -a "emission_measurements\t''
sensor_readings\t''"
complete -c glctl -n "__fish_glctl_using_subcommand bench" -l duration -d 'Seconds of ingest per table, and of each query scenario' -r
complete -c glctl -n "__fish_glctl_using_subcommand bench" -l rows -d 'Ingest exactly this many rows per table instead of running for --duration (no warm-up)' -r
complete -c glctl -n "__fish_glctl_using_subcommand bench" -l connections -d 'Worker connections (one per worker); default: the machine\'s cores' -r
complete -c glctl -n "__fish_glctl_using_subcommand bench" -l rate -d 'Requests per second of each query scenario (open loop: requests start on schedule whatever happened before). Default: 20/s for PB-03 and PB-05, 1/s for PB-04, 5/s for PB-06' -r
complete -c glctl -n "__fish_glctl_using_subcommand bench" -l seed -d 'Seed of the row generator: the same seed gives the same rows' -r
complete -c glctl -n "__fish_glctl_using_subcommand bench" -l sink -d '`null`: generate and encode only, to measure the generator alone (no database)' -r -f -a "database\t''
null\t''"
complete -c glctl -n "__fish_glctl_using_subcommand bench" -l batch-rows -d 'Rows per COPY statement' -r
complete -c glctl -n "__fish_glctl_using_subcommand bench" -l warmup -d 'Seconds at the start of each timed ingest whose commits are not measured (default: 2, or a fifth of --duration when that is shorter). A --rows ingest is measured from its start' -r
complete -c glctl -n "__fish_glctl_using_subcommand bench" -l query-rows -d 'Rows of emission_measurements the query scenarios run on when no ingest runs before them' -r
complete -c glctl -n "__fish_glctl_using_subcommand bench" -l sessions -d 'PB-07: sessions to open and hold (default: the acceptance target plus a tenth)' -r
complete -c glctl -n "__fish_glctl_using_subcommand bench" -l pooler-url -d 'The PgBouncers (FA-09, PB-07, PB-08, HA-05), as one multi-host URL (postgres://user:pw@h1:p1,h2:p2/db); bench\'s connections scenario goes through them. Prefer the variable: a flag is visible in the process list' -r
complete -c glctl -n "__fish_glctl_using_subcommand bench" -l pooler-admin-url -d 'The PgBouncers\' admin console (the same hosts, an admin user, database pgbouncer), for SHOW POOLS/STATS' -r
complete -c glctl -n "__fish_glctl_using_subcommand bench" -l load -d 'How rows are loaded: `auto` is binary COPY, or INSERT on a server that cannot take COPY (PGlite, which reports itself in version()); `insert` forces multi-row INSERTs. An INSERT load is not what PB-01/PB-02 measure: its rows/s is labelled `method: insert` and never passes' -r -f -a "auto\t''
copy\t''
insert\t''"
complete -c glctl -n "__fish_glctl_using_subcommand bench" -l dump -d 'Write the rows (--rows of them) as CSV and binary COPY files, with the scratch table\'s DDL, into DIR and exit without connecting (for the benchmark script\'s `psql \\copy` comparison)' -r -F
complete -c glctl -n "__fish_glctl_using_subcommand bench" -l output -d 'Output format' -r -f -a "text\t''
json\t''"
complete -c glctl -n "__fish_glctl_using_subcommand bench" -l root -d 'Project directory holding `environments/`, `templates/` and `sql/` [default: the nearest folder holding `environments/`, from here upwards, as git and cargo find theirs; else `.`]' -r -F
complete -c glctl -n "__fish_glctl_using_subcommand bench" -l database-url -d 'Connect the SQL stage here instead of the environment\'s endpoint (postgres://user@host:port/db). Prefer the GLCTL_DATABASE_URL variable: a flag is visible to other users in the process list' -r
complete -c glctl -n "__fish_glctl_using_subcommand bench" -l allow-production -d 'Allow running against a production environment'
complete -c glctl -n "__fish_glctl_using_subcommand bench" -l no-color -d 'Never colour output (also when NO_COLOR is set)'
complete -c glctl -n "__fish_glctl_using_subcommand bench" -s v -l verbose -d 'On a failure, also print its full account (e.g. what each AWS credential source said)'
complete -c glctl -n "__fish_glctl_using_subcommand bench" -s h -l help -d 'Print help'
complete -c glctl -n "__fish_glctl_using_subcommand upgrade; and not __fish_seen_subcommand_from check plan help" -s e -l env -d 'Environment: a name under `environments/` or a path to a YAML file. Default: GLCTL_ENV' -r
complete -c glctl -n "__fish_glctl_using_subcommand upgrade; and not __fish_seen_subcommand_from check plan help" -l root -d 'Project directory holding `environments/`, `templates/` and `sql/` [default: the nearest folder holding `environments/`, from here upwards, as git and cargo find theirs; else `.`]' -r -F
complete -c glctl -n "__fish_glctl_using_subcommand upgrade; and not __fish_seen_subcommand_from check plan help" -l database-url -d 'Connect the SQL stage here instead of the environment\'s endpoint (postgres://user@host:port/db). Prefer the GLCTL_DATABASE_URL variable: a flag is visible to other users in the process list' -r
complete -c glctl -n "__fish_glctl_using_subcommand upgrade; and not __fish_seen_subcommand_from check plan help" -l no-color -d 'Never colour output (also when NO_COLOR is set)'
complete -c glctl -n "__fish_glctl_using_subcommand upgrade; and not __fish_seen_subcommand_from check plan help" -s v -l verbose -d 'On a failure, also print its full account (e.g. what each AWS credential source said)'
complete -c glctl -n "__fish_glctl_using_subcommand upgrade; and not __fish_seen_subcommand_from check plan help" -s h -l help -d 'Print help'
complete -c glctl -n "__fish_glctl_using_subcommand upgrade; and not __fish_seen_subcommand_from check plan help" -f -a "check" -d 'Read the live database and say, item by item (PASS/FAIL/UNKNOWN with evidence), what stands in the way of VERSION: PostgreSQL\'s pre-upgrade blockers, each extension\'s path, Blue/Green readiness'
complete -c glctl -n "__fish_glctl_using_subcommand upgrade; and not __fish_seen_subcommand_from check plan help" -f -a "plan" -d 'The ordered steps of the upgrade to VERSION, each with its expected effect and how to undo it, and the rollback point. Runs nothing'
complete -c glctl -n "__fish_glctl_using_subcommand upgrade; and not __fish_seen_subcommand_from check plan help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c glctl -n "__fish_glctl_using_subcommand upgrade; and __fish_seen_subcommand_from check" -l to -d 'The engine version to move to (`17.4`); on RDS and Aurora one AWS offers (src/engine/versions.tsv)' -r
complete -c glctl -n "__fish_glctl_using_subcommand upgrade; and __fish_seen_subcommand_from check" -l window -d 'How long the upgrade may last: premade partitions must outlast it while maintenance is paused' -r
complete -c glctl -n "__fish_glctl_using_subcommand upgrade; and __fish_seen_subcommand_from check" -l method -d '`blue-green` (logical replication; its limits block) or `in-place` (they do not)' -r -f -a "blue-green\t''
in-place\t''"
complete -c glctl -n "__fish_glctl_using_subcommand upgrade; and __fish_seen_subcommand_from check" -l output -d 'Output format' -r -f -a "text\t''
json\t''"
complete -c glctl -n "__fish_glctl_using_subcommand upgrade; and __fish_seen_subcommand_from check" -s e -l env -d 'Environment: a name under `environments/` or a path to a YAML file. Default: GLCTL_ENV' -r
complete -c glctl -n "__fish_glctl_using_subcommand upgrade; and __fish_seen_subcommand_from check" -l root -d 'Project directory holding `environments/`, `templates/` and `sql/` [default: the nearest folder holding `environments/`, from here upwards, as git and cargo find theirs; else `.`]' -r -F
complete -c glctl -n "__fish_glctl_using_subcommand upgrade; and __fish_seen_subcommand_from check" -l database-url -d 'Connect the SQL stage here instead of the environment\'s endpoint (postgres://user@host:port/db). Prefer the GLCTL_DATABASE_URL variable: a flag is visible to other users in the process list' -r
complete -c glctl -n "__fish_glctl_using_subcommand upgrade; and __fish_seen_subcommand_from check" -l no-color -d 'Never colour output (also when NO_COLOR is set)'
complete -c glctl -n "__fish_glctl_using_subcommand upgrade; and __fish_seen_subcommand_from check" -s v -l verbose -d 'On a failure, also print its full account (e.g. what each AWS credential source said)'
complete -c glctl -n "__fish_glctl_using_subcommand upgrade; and __fish_seen_subcommand_from check" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c glctl -n "__fish_glctl_using_subcommand upgrade; and __fish_seen_subcommand_from plan" -l to -d 'The engine version to move to (`17.4`); on RDS and Aurora one AWS offers (src/engine/versions.tsv)' -r
complete -c glctl -n "__fish_glctl_using_subcommand upgrade; and __fish_seen_subcommand_from plan" -l window -d 'How long the upgrade may last: premade partitions must outlast it while maintenance is paused' -r
complete -c glctl -n "__fish_glctl_using_subcommand upgrade; and __fish_seen_subcommand_from plan" -l method -d '`blue-green` (logical replication; its limits block) or `in-place` (they do not)' -r -f -a "blue-green\t''
in-place\t''"
complete -c glctl -n "__fish_glctl_using_subcommand upgrade; and __fish_seen_subcommand_from plan" -l output -d 'Output format' -r -f -a "text\t''
json\t''"
complete -c glctl -n "__fish_glctl_using_subcommand upgrade; and __fish_seen_subcommand_from plan" -s e -l env -d 'Environment: a name under `environments/` or a path to a YAML file. Default: GLCTL_ENV' -r
complete -c glctl -n "__fish_glctl_using_subcommand upgrade; and __fish_seen_subcommand_from plan" -l root -d 'Project directory holding `environments/`, `templates/` and `sql/` [default: the nearest folder holding `environments/`, from here upwards, as git and cargo find theirs; else `.`]' -r -F
complete -c glctl -n "__fish_glctl_using_subcommand upgrade; and __fish_seen_subcommand_from plan" -l database-url -d 'Connect the SQL stage here instead of the environment\'s endpoint (postgres://user@host:port/db). Prefer the GLCTL_DATABASE_URL variable: a flag is visible to other users in the process list' -r
complete -c glctl -n "__fish_glctl_using_subcommand upgrade; and __fish_seen_subcommand_from plan" -l no-color -d 'Never colour output (also when NO_COLOR is set)'
complete -c glctl -n "__fish_glctl_using_subcommand upgrade; and __fish_seen_subcommand_from plan" -s v -l verbose -d 'On a failure, also print its full account (e.g. what each AWS credential source said)'
complete -c glctl -n "__fish_glctl_using_subcommand upgrade; and __fish_seen_subcommand_from plan" -s h -l help -d 'Print help'
complete -c glctl -n "__fish_glctl_using_subcommand upgrade; and __fish_seen_subcommand_from help" -f -a "check" -d 'Read the live database and say, item by item (PASS/FAIL/UNKNOWN with evidence), what stands in the way of VERSION: PostgreSQL\'s pre-upgrade blockers, each extension\'s path, Blue/Green readiness'
complete -c glctl -n "__fish_glctl_using_subcommand upgrade; and __fish_seen_subcommand_from help" -f -a "plan" -d 'The ordered steps of the upgrade to VERSION, each with its expected effect and how to undo it, and the rollback point. Runs nothing'
complete -c glctl -n "__fish_glctl_using_subcommand upgrade; and __fish_seen_subcommand_from help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c glctl -n "__fish_glctl_using_subcommand engines" -l output -d 'Output format' -r -f -a "text\t''
json\t''
markdown\t'The Markdown table of docs/reference/'"
complete -c glctl -n "__fish_glctl_using_subcommand engines" -l root -d 'Project directory holding `environments/`, `templates/` and `sql/` [default: the nearest folder holding `environments/`, from here upwards, as git and cargo find theirs; else `.`]' -r -F
complete -c glctl -n "__fish_glctl_using_subcommand engines" -l database-url -d 'Connect the SQL stage here instead of the environment\'s endpoint (postgres://user@host:port/db). Prefer the GLCTL_DATABASE_URL variable: a flag is visible to other users in the process list' -r
complete -c glctl -n "__fish_glctl_using_subcommand engines" -l no-color -d 'Never colour output (also when NO_COLOR is set)'
complete -c glctl -n "__fish_glctl_using_subcommand engines" -s v -l verbose -d 'On a failure, also print its full account (e.g. what each AWS credential source said)'
complete -c glctl -n "__fish_glctl_using_subcommand engines" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c glctl -n "__fish_glctl_using_subcommand fields" -l output -d 'Output format' -r -f -a "text\t''
json\t''
markdown\t'The Markdown table of docs/reference/'"
complete -c glctl -n "__fish_glctl_using_subcommand fields" -l root -d 'Project directory holding `environments/`, `templates/` and `sql/` [default: the nearest folder holding `environments/`, from here upwards, as git and cargo find theirs; else `.`]' -r -F
complete -c glctl -n "__fish_glctl_using_subcommand fields" -l database-url -d 'Connect the SQL stage here instead of the environment\'s endpoint (postgres://user@host:port/db). Prefer the GLCTL_DATABASE_URL variable: a flag is visible to other users in the process list' -r
complete -c glctl -n "__fish_glctl_using_subcommand fields" -l no-color -d 'Never colour output (also when NO_COLOR is set)'
complete -c glctl -n "__fish_glctl_using_subcommand fields" -s v -l verbose -d 'On a failure, also print its full account (e.g. what each AWS credential source said)'
complete -c glctl -n "__fish_glctl_using_subcommand fields" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c glctl -n "__fish_glctl_using_subcommand completions" -l root -d 'Project directory holding `environments/`, `templates/` and `sql/` [default: the nearest folder holding `environments/`, from here upwards, as git and cargo find theirs; else `.`]' -r -F
complete -c glctl -n "__fish_glctl_using_subcommand completions" -l database-url -d 'Connect the SQL stage here instead of the environment\'s endpoint (postgres://user@host:port/db). Prefer the GLCTL_DATABASE_URL variable: a flag is visible to other users in the process list' -r
complete -c glctl -n "__fish_glctl_using_subcommand completions" -l no-color -d 'Never colour output (also when NO_COLOR is set)'
complete -c glctl -n "__fish_glctl_using_subcommand completions" -s v -l verbose -d 'On a failure, also print its full account (e.g. what each AWS credential source said)'
complete -c glctl -n "__fish_glctl_using_subcommand completions" -s h -l help -d 'Print help'
complete -c glctl -n "__fish_glctl_using_subcommand man" -l root -d 'Project directory holding `environments/`, `templates/` and `sql/` [default: the nearest folder holding `environments/`, from here upwards, as git and cargo find theirs; else `.`]' -r -F
complete -c glctl -n "__fish_glctl_using_subcommand man" -l database-url -d 'Connect the SQL stage here instead of the environment\'s endpoint (postgres://user@host:port/db). Prefer the GLCTL_DATABASE_URL variable: a flag is visible to other users in the process list' -r
complete -c glctl -n "__fish_glctl_using_subcommand man" -l no-color -d 'Never colour output (also when NO_COLOR is set)'
complete -c glctl -n "__fish_glctl_using_subcommand man" -s v -l verbose -d 'On a failure, also print its full account (e.g. what each AWS credential source said)'
complete -c glctl -n "__fish_glctl_using_subcommand man" -s h -l help -d 'Print help'
complete -c glctl -n "__fish_glctl_using_subcommand schema" -l out -d 'Write the schema to this file instead of stdout' -r -F
complete -c glctl -n "__fish_glctl_using_subcommand schema" -l root -d 'Project directory holding `environments/`, `templates/` and `sql/` [default: the nearest folder holding `environments/`, from here upwards, as git and cargo find theirs; else `.`]' -r -F
complete -c glctl -n "__fish_glctl_using_subcommand schema" -l database-url -d 'Connect the SQL stage here instead of the environment\'s endpoint (postgres://user@host:port/db). Prefer the GLCTL_DATABASE_URL variable: a flag is visible to other users in the process list' -r
complete -c glctl -n "__fish_glctl_using_subcommand schema" -l no-color -d 'Never colour output (also when NO_COLOR is set)'
complete -c glctl -n "__fish_glctl_using_subcommand schema" -s v -l verbose -d 'On a failure, also print its full account (e.g. what each AWS credential source said)'
complete -c glctl -n "__fish_glctl_using_subcommand schema" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c glctl -n "__fish_glctl_using_subcommand init" -l from -d 'The environment the new one is modelled on: the new file extends what ENV extends (its layer)' -r
complete -c glctl -n "__fish_glctl_using_subcommand init" -l root -d 'Project directory holding `environments/`, `templates/` and `sql/` [default: the nearest folder holding `environments/`, from here upwards, as git and cargo find theirs; else `.`]' -r -F
complete -c glctl -n "__fish_glctl_using_subcommand init" -l database-url -d 'Connect the SQL stage here instead of the environment\'s endpoint (postgres://user@host:port/db). Prefer the GLCTL_DATABASE_URL variable: a flag is visible to other users in the process list' -r
complete -c glctl -n "__fish_glctl_using_subcommand init" -l no-color -d 'Never colour output (also when NO_COLOR is set)'
complete -c glctl -n "__fish_glctl_using_subcommand init" -s v -l verbose -d 'On a failure, also print its full account (e.g. what each AWS credential source said)'
complete -c glctl -n "__fish_glctl_using_subcommand init" -s h -l help -d 'Print help'
complete -c glctl -n "__fish_glctl_using_subcommand help; and not __fish_seen_subcommand_from validate show render plan apply migrate verify promote drift bench upgrade engines fields completions man schema init help" -f -a "validate" -d 'Check an environment file (and what it extends) without touching AWS or a database'
complete -c glctl -n "__fish_glctl_using_subcommand help; and not __fish_seen_subcommand_from validate show render plan apply migrate verify promote drift bench upgrade engines fields completions man schema init help" -f -a "show" -d 'Print the effective (merged, defaulted) configuration of an environment, secrets redacted'
complete -c glctl -n "__fish_glctl_using_subcommand help; and not __fish_seen_subcommand_from validate show render plan apply migrate verify promote drift bench upgrade engines fields completions man schema init help" -f -a "render" -d 'Render the environment\'s Terraform into a directory (default `.glctl/ENV/`) without running it'
complete -c glctl -n "__fish_glctl_using_subcommand help; and not __fish_seen_subcommand_from validate show render plan apply migrate verify promote drift bench upgrade engines fields completions man schema init help" -f -a "plan" -d 'Render, `terraform init` and `terraform plan`, then summarise what would change, by module; then the pending migrations and the policy changes, when the database is reachable'
complete -c glctl -n "__fish_glctl_using_subcommand help; and not __fish_seen_subcommand_from validate show render plan apply migrate verify promote drift bench upgrade engines fields completions man schema init help" -f -a "apply" -d 'Apply the saved plan (re-planning only when it is stale), then the migrations and the time-series policies'
complete -c glctl -n "__fish_glctl_using_subcommand help; and not __fish_seen_subcommand_from validate show render plan apply migrate verify promote drift bench upgrade engines fields completions man schema init help" -f -a "migrate" -d 'Versioned SQL migrations (`sql/migrations/`): their status, apply the pending ones, lint them, or rehearse them under an application workload'
complete -c glctl -n "__fish_glctl_using_subcommand help; and not __fish_seen_subcommand_from validate show render plan apply migrate verify promote drift bench upgrade engines fields completions man schema init help" -f -a "verify" -d 'Check the environment against the acceptance criteria of PRD §10, each with its evidence'
complete -c glctl -n "__fish_glctl_using_subcommand help; and not __fish_seen_subcommand_from validate show render plan apply migrate verify promote drift bench upgrade engines fields completions man schema init help" -f -a "promote" -d 'Promote what was verified in SRC to DST: the gates, DST\'s plan and the environment diff, then apply, verify DST and write a promotion record'
complete -c glctl -n "__fish_glctl_using_subcommand help; and not __fish_seen_subcommand_from validate show render plan apply migrate verify promote drift bench upgrade engines fields completions man schema init help" -f -a "drift" -d 'What changed outside glctl: infrastructure, migration ledger, policies and the objects the migrations made, each a list of named differences'
complete -c glctl -n "__fish_glctl_using_subcommand help; and not __fish_seen_subcommand_from validate show render plan apply migrate verify promote drift bench upgrade engines fields completions man schema init help" -f -a "bench" -d 'Measure ingest throughput, query latency and sessions through the pooler (PB-01…PB-08) in a scratch schema that is dropped afterwards, also on Ctrl-C; a production environment needs --allow-production'
complete -c glctl -n "__fish_glctl_using_subcommand help; and not __fish_seen_subcommand_from validate show render plan apply migrate verify promote drift bench upgrade engines fields completions man schema init help" -f -a "upgrade" -d 'Engine and extension upgrades: check the live database\'s readiness for a version, or plan the steps'
complete -c glctl -n "__fish_glctl_using_subcommand help; and not __fish_seen_subcommand_from validate show render plan apply migrate verify promote drift bench upgrade engines fields completions man schema init help" -f -a "engines" -d 'Print what each engine and time-series backend can do (the capability table)'
complete -c glctl -n "__fish_glctl_using_subcommand help; and not __fish_seen_subcommand_from validate show render plan apply migrate verify promote drift bench upgrade engines fields completions man schema init help" -f -a "fields" -d 'Print the reference of every environment field (generated from the model), or the fields under PATH'
complete -c glctl -n "__fish_glctl_using_subcommand help; and not __fish_seen_subcommand_from validate show render plan apply migrate verify promote drift bench upgrade engines fields completions man schema init help" -f -a "completions" -d 'Print a shell completion script for bash, zsh or fish'
complete -c glctl -n "__fish_glctl_using_subcommand help; and not __fish_seen_subcommand_from validate show render plan apply migrate verify promote drift bench upgrade engines fields completions man schema init help" -f -a "man" -d 'Print glctl\'s man page (roff); the same page is checked in as docs/man/glctl.1'
complete -c glctl -n "__fish_glctl_using_subcommand help; and not __fish_seen_subcommand_from validate show render plan apply migrate verify promote drift bench upgrade engines fields completions man schema init help" -f -a "schema" -d 'Print the JSON Schema of an environment file, for editors (yaml-language-server) and CI'
complete -c glctl -n "__fish_glctl_using_subcommand help; and not __fish_seen_subcommand_from validate show render plan apply migrate verify promote drift bench upgrade engines fields completions man schema init help" -f -a "init" -d 'Write a new environment file `environments/NAME.yaml` that extends ENV\'s layer, with the fields that must differ marked, and validate it. Never overwrites'
complete -c glctl -n "__fish_glctl_using_subcommand help; and not __fish_seen_subcommand_from validate show render plan apply migrate verify promote drift bench upgrade engines fields completions man schema init help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c glctl -n "__fish_glctl_using_subcommand help; and __fish_seen_subcommand_from migrate" -f -a "status" -d 'Applied, pending, changed and missing migrations; exit 1 when not up to date'
complete -c glctl -n "__fish_glctl_using_subcommand help; and __fish_seen_subcommand_from migrate" -f -a "apply" -d 'Apply the pending migrations in order, each in its own transaction'
complete -c glctl -n "__fish_glctl_using_subcommand help; and __fish_seen_subcommand_from migrate" -f -a "lint" -d 'Parse every migration with PostgreSQL\'s grammar and report statements that would block the application (located FILE:LINE:COL, with a rule ID and the safe recipe); exit 2 on an error. Needs no database'
complete -c glctl -n "__fish_glctl_using_subcommand help; and __fish_seen_subcommand_from migrate" -f -a "rehearse" -d 'Apply the pending migrations to a scratch copy of the target (its schema, generated rows over N partitions) under an application workload, sampling locks every few ms: per statement the locks, its duration and retries, and how long the application was blocked. Exit 1 when a statement stalls the application longer than `migrations.max_blocking`, 3 when it could not be measured'
complete -c glctl -n "__fish_glctl_using_subcommand help; and __fish_seen_subcommand_from upgrade" -f -a "check" -d 'Read the live database and say, item by item (PASS/FAIL/UNKNOWN with evidence), what stands in the way of VERSION: PostgreSQL\'s pre-upgrade blockers, each extension\'s path, Blue/Green readiness'
complete -c glctl -n "__fish_glctl_using_subcommand help; and __fish_seen_subcommand_from upgrade" -f -a "plan" -d 'The ordered steps of the upgrade to VERSION, each with its expected effect and how to undo it, and the rollback point. Runs nothing'
