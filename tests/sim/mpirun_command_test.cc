// The mpirun command line of edgefl run --launcher mpirun (sim/mpirun_command.h).
#include "sim/mpirun_command.h"

#include <doctest/doctest.h>

#include <string>
#include <vector>

namespace edgefl {
namespace {

using Args = std::vector<std::string>;

TEST_CASE("mpirun: one app context a run of alike nodes, so that rank i is node i") {
  // Nodes 0-1 one board's budget, 2-4 another's, 5 hostile: three contexts in id order.
  const std::vector<Args> nodes = {{"--connect", "E", "--memory-budget", "1"}, {"--connect", "E", "--memory-budget", "1"},
                                   {"--connect", "E"},                          {"--connect", "E"},
                                   {"--connect", "E"},                          {"--connect", "E", "--attack", "sign-flip"}};
  const Args argv = MpirunCommand({.mpirun = "/usr/bin/mpirun", .as_root = true}, "/bin/edgefl-node", nodes);
  const Args expected = {"/usr/bin/mpirun", "--allow-run-as-root", "--oversubscribe",
                         "-np", "2", "/bin/edgefl-node", "--connect", "E", "--memory-budget", "1", ":",
                         "-np", "3", "/bin/edgefl-node", "--connect", "E", ":",
                         "-np", "1", "/bin/edgefl-node", "--connect", "E", "--attack", "sign-flip"};
  CHECK(argv == expected);
}

TEST_CASE("mpirun: a hostfile replaces oversubscription; extra arguments come before the program; no root flag "
          "unless root") {
  const std::vector<Args> nodes(4, Args{"--quiet"});
  const Args argv = MpirunCommand(
      {.hostfile = "hosts", .extra = {"--mca", "oob_tcp_if_include", "10.77.0.0/24"}}, "edgefl-node", nodes);
  const Args expected = {"mpirun", "--hostfile", "hosts", "--mca", "oob_tcp_if_include", "10.77.0.0/24",
                         "-np",    "4",          "edgefl-node", "--quiet"};
  CHECK(argv == expected);
}

}  // namespace
}  // namespace edgefl
