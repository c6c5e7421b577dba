// The mpirun and srun command lines of edgefl run --launcher (sim/launch_command.h).
#include "sim/launch_command.h"

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

TEST_CASE("srun: one program line when every node is alike, a --multi-prog file by rank ranges when not") {
  SrunCommand srun;
  const std::vector<Args> alike(3, Args{"--connect", "E", "--quiet"});
  REQUIRE(MakeSrunCommand("/usr/bin/srun", {"--partition=edge"}, "/bin/edgefl-node", alike, "run/srun.conf", &srun)
              .ok());
  CHECK(srun.argv == Args{"/usr/bin/srun", "--ntasks=3", "--overcommit", "--kill-on-bad-exit=0", "--partition=edge",
                          "/bin/edgefl-node", "--connect", "E", "--quiet"});
  CHECK(srun.multi_prog.empty());

  const std::vector<Args> mixed = {{"--connect", "E", "--memory-budget", "1"}, {"--connect", "E", "--memory-budget", "1"},
                                   {"--connect", "E"}};
  REQUIRE(MakeSrunCommand("srun", {}, "edgefl-node", mixed, "run/srun.conf", &srun).ok());
  CHECK(srun.argv == Args{"srun", "--ntasks=3", "--overcommit", "--kill-on-bad-exit=0", "--multi-prog",
                          "run/srun.conf"});
  CHECK(srun.multi_prog == "0-1 edgefl-node --connect E --memory-budget 1\n2-2 edgefl-node --connect E\n");

  // srun splits a --multi-prog line on white space: such an argument is refused, named.
  const std::vector<Args> spaced = {{"--state-dir", "my runs/node-state"}, {"--quiet"}};
  const Status s = MakeSrunCommand("srun", {}, "edgefl-node", spaced, "srun.conf", &srun);
  REQUIRE_FALSE(s.ok());
  CHECK(std::string(s.message()).find("my runs/node-state") != std::string::npos);
}

}  // namespace
}  // namespace edgefl
