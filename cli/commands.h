/*
 * commands.h -- the CLI's commands about user-defined functions
 * (udf_commands.c). Each takes the arguments after its name and returns the
 * process exit status: 0 success, 1 error, 2 usage error.
 */
#ifndef WASMUDF_CLI_COMMANDS_H
#define WASMUDF_CLI_COMMANDS_H

/* Where `build` looks for the guest SDK, relative to the directory of the
 * wasmudf executable: the installed layout (CMakeLists.txt computes both
 * from GNUInstallDirs), which the build tree mirrors. No absolute path of
 * the build is compiled in. */
#ifndef WUDF_SDK_OBJECT_RELATIVE
#define WUDF_SDK_OBJECT_RELATIVE "../share/wasmudf/wudf_guest.o"
#endif
#ifndef WUDF_SDK_INCLUDE_RELATIVE
#define WUDF_SDK_INCLUDE_RELATIVE "../include"
#endif

struct wudf_engine;
struct wudf_module;
struct wudf_error;

/* Loads MODULE for call, exports and run: an artifact (wasmudf compile's
 * output, recognised by its first line) with wudf_module_load_artifact_file,
 * anything else with wudf_module_load_file (wasmudf.c). */
int cli_load_module(struct wudf_engine* engine, const char* path,
                    struct wudf_module** module, struct wudf_error* error);

int command_list(int argc, char** argv);
int command_build(int argc, char** argv);
int command_run(int argc, char** argv);

#endif /* WASMUDF_CLI_COMMANDS_H */
