// MpirunCommand: the one mpirun command line that starts a variant's nodes
// (edgefl run --launcher mpirun). Open MPI is only the launcher: the nodes
// never call MPI_Init, each takes its id from its rank
// (OMPI_COMM_WORLD_RANK, node/node_identity.h), ZeroMQ carries every byte,
// and each runs with --exit-policy zero, since mpirun ends the whole job
// when one rank exits non-zero. Nodes whose command lines differ (a
// profile's memory budget, a hostile node's --attack) get one MPMD app
// context each run of consecutive ids, so rank i is node i:
//   mpirun [--allow-run-as-root] [--oversubscribe | --hostfile F] ARGS...
//          -np 3 edgefl-node A... : -np 2 edgefl-node B...
// Pure function; thread-safe.
#pragma once

#include <span>
#include <string>
#include <vector>

namespace edgefl {

struct MpirunOptions {
  std::string mpirun = "mpirun";
  std::string hostfile{};                   // empty: every rank on this machine, oversubscribed
  std::vector<std::string> extra{};         // before the app contexts, e.g. --mca oob_tcp_if_include 10.77.0.0/24
  bool as_root = false;                     // --allow-run-as-root (Open MPI refuses root without it)
};

// `node_args[i]`: node i's arguments after the program (no --id).
std::vector<std::string> MpirunCommand(const MpirunOptions& options, const std::string& node_binary,
                                       std::span<const std::vector<std::string>> node_args);

}  // namespace edgefl
