/*
 * commands.h -- the CLI's commands about user-defined functions
 * (udf_commands.c). Each takes the arguments after its name and returns the
 * process exit status: 0 success, 1 error, 2 usage error.
 */
#ifndef WASMUDF_CLI_COMMANDS_H
#define WASMUDF_CLI_COMMANDS_H

int command_list(int argc, char** argv);
int command_build(int argc, char** argv);
int command_run(int argc, char** argv);

#endif /* WASMUDF_CLI_COMMANDS_H */
