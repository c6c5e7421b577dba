// Which node a process is under each launcher, and what it exits with
// (node/node_identity.h).
#include "node/node_identity.h"

#include <doctest/doctest.h>

#include <map>
#include <string>

namespace edgefl {
namespace {

// An environment of `vars` alone.
EnvironmentReader Env(std::map<std::string, std::string> vars) {
  return [vars = std::move(vars)](const char* name) -> const char* {
    const auto it = vars.find(name);
    return it == vars.end() ? nullptr : it->second.c_str();
  };
}

TEST_CASE("node ids: --id, then EDGEFL_NODE_ID, then the launchers' ranks, MPI before a stale SLURM_PROCID") {
  NodeIdentity id;
  REQUIRE(ResolveNodeId(7u, Env({{"OMPI_COMM_WORLD_RANK", "3"}}), &id).ok());
  CHECK(id.id == 7);
  CHECK(id.from == "--id");
  REQUIRE(ResolveNodeId(std::nullopt, Env({{"EDGEFL_NODE_ID", "12"}, {"OMPI_COMM_WORLD_RANK", "3"}}), &id).ok());
  CHECK(id.id == 12);
  CHECK(id.from == "EDGEFL_NODE_ID");
  // mpirun inside a Slurm job: six ranks, their daemons' SLURM_PROCID 0,0,0,0,1,1.
  const char* stale[] = {"0", "0", "0", "0", "1", "1"};
  for (int rank = 0; rank < 6; ++rank) {
    REQUIRE(ResolveNodeId(std::nullopt,
                          Env({{"OMPI_COMM_WORLD_RANK", std::to_string(rank)},
                               {"PMIX_RANK", std::to_string(rank)},
                               {"SLURM_PROCID", stale[rank]}}),
                          &id)
                .ok());
    CHECK(id.id == static_cast<uint32_t>(rank));
    CHECK(id.from == "OMPI_COMM_WORLD_RANK");
  }
  REQUIRE(ResolveNodeId(std::nullopt, Env({{"PMIX_RANK", "4"}, {"SLURM_PROCID", "9"}}), &id).ok());
  CHECK(id.id == 4);
  REQUIRE(ResolveNodeId(std::nullopt, Env({{"PMI_RANK", "5"}, {"SLURM_PROCID", "9"}}), &id).ok());  // MPICH's Hydra
  CHECK(id.id == 5);
  CHECK(id.from == "PMI_RANK");
  REQUIRE(ResolveNodeId(std::nullopt, Env({{"SLURM_PROCID", "9"}}), &id).ok());  // srun
  CHECK(id.id == 9);
  CHECK(id.from == "SLURM_PROCID");
}

TEST_CASE("node ids: a value that is not an id is refused, naming the variable; none at all says how to give one") {
  NodeIdentity id;
  for (const char* bad : {"", "-1", "3x", "x", " 3", "4294967296", "1.0"}) {
    CAPTURE(bad);
    const Status s = ResolveNodeId(std::nullopt, Env({{"OMPI_COMM_WORLD_RANK", bad}, {"SLURM_PROCID", "1"}}), &id);
    REQUIRE_FALSE(s.ok());
    CHECK(std::string(s.message()).find("OMPI_COMM_WORLD_RANK") != std::string::npos);
  }
  const Status none = ResolveNodeId(std::nullopt, Env({}), &id);
  REQUIRE_FALSE(none.ok());
  CHECK(std::string(none.message()).find("--id") != std::string::npos);
}

TEST_CASE("exit policy: fail keeps 1 and 130; zero ends 0 whatever happened, for mpirun") {
  CHECK(ExitCodeFor(ExitPolicy::kFail, false, false) == 0);
  CHECK(ExitCodeFor(ExitPolicy::kFail, true, false) == 1);
  CHECK(ExitCodeFor(ExitPolicy::kFail, false, true) == 130);
  CHECK(ExitCodeFor(ExitPolicy::kFail, true, true) == 1);
  for (const bool failed : {false, true}) {
    for (const bool stopped : {false, true}) CHECK(ExitCodeFor(ExitPolicy::kZero, failed, stopped) == 0);
  }
  ExitPolicy policy = ExitPolicy::kZero;
  CHECK(ParseExitPolicy("fail", &policy));
  CHECK(policy == ExitPolicy::kFail);
  CHECK(ParseExitPolicy("zero", &policy));
  CHECK(policy == ExitPolicy::kZero);
  CHECK_FALSE(ParseExitPolicy("never", &policy));
}

}  // namespace
}  // namespace edgefl
