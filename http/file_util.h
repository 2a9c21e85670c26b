// Files the server writes beside its databases: the config file's hashed
// admins, the session secret.
#ifndef DIVAN_HTTP_FILE_UTIL_H_
#define DIVAN_HTTP_FILE_UTIL_H_

#include <sys/types.h>

#include <string>
#include <string_view>

#include "divan/status.h"

namespace divan::http {

// Replaces the file `path` with `text` as one step: writes "<path>.tmp"
// with permissions `mode`, fsyncs it and renames it over `path`, so that a
// crash leaves the old file or the new one, never a part. Errors: io_error
// naming the file (the temporary file is removed).
Status replace_file(const std::string& path, std::string_view text, mode_t mode);

}  // namespace divan::http

#endif  // DIVAN_HTTP_FILE_UTIL_H_
