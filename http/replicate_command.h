// `divan replicate`: one replication from the command line.
#ifndef DIVAN_HTTP_REPLICATE_COMMAND_H_
#define DIVAN_HTTP_REPLICATE_COMMAND_H_

#include <string>
#include <vector>

namespace divan::http {

// Runs `divan replicate` with the arguments after "replicate". Returns the
// exit status: 0 done, 1 the replication failed, 2 bad arguments.
int run_replicate_command(const std::vector<std::string>& args);

std::string replicate_usage();

}  // namespace divan::http

#endif  // DIVAN_HTTP_REPLICATE_COMMAND_H_
