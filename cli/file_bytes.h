/* Reading a whole file into memory, for the module and script files the commands are given. */
#ifndef WAFER_CLI_FILE_BYTES_H
#define WAFER_CLI_FILE_BYTES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Reads path into a fresh malloc'd buffer (*out, *len); the caller frees it. On failure returns
 * false and leaves a static description of the cause in *why (strerror's text). */
bool file_bytes_read(const char *path, uint8_t **out, size_t *len, const char **why);

#endif
