// The one launcher command line that starts a variant's nodes (edgefl run
// --launcher mpirun | srun). The launcher only starts them: the nodes never
// call MPI_Init, each takes its id from its rank (OMPI_COMM_WORLD_RANK or
// SLURM_PROCID, node/node_identity.h), ZeroMQ carries every byte, and each
// runs with --exit-policy zero, so that one node's handled failure neither
// ends the job (mpirun ends every rank when one exits non-zero) nor marks it
// failed. Nodes whose command lines differ (a profile's memory budget, a
// hostile node's --attack) keep rank i = node i:
//   mpirun [--allow-run-as-root] [--oversubscribe | --hostfile F] ARGS...
//          -np 3 edgefl-node A... : -np 2 edgefl-node B...        (MPMD app contexts)
//   srun --ntasks=5 --overcommit --kill-on-bad-exit=0 ARGS... edgefl-node A...
//   srun ... --multi-prog FILE, FILE holding "0-2 edgefl-node A..." lines  (when they differ)
// Pure functions; thread-safe.
#pragma once

#include <span>
#include <string>
#include <vector>

#include "core/status.h"

namespace edgefl {

struct MpirunOptions {
  std::string mpirun = "mpirun";
  std::string hostfile{};            // empty: every rank on this machine, oversubscribed
  std::vector<std::string> extra{};  // before the app contexts, e.g. --mca oob_tcp_if_include 10.77.0.0/24
  bool as_root = false;              // --allow-run-as-root (Open MPI refuses root without it)
};

// `node_args[i]`: node i's arguments after the program (no --id).
std::vector<std::string> MpirunCommand(const MpirunOptions& options, const std::string& node_binary,
                                       std::span<const std::vector<std::string>> node_args);

struct SrunCommand {
  std::vector<std::string> argv;
  std::string multi_prog;  // the --multi-prog file's text, when the nodes' arguments differ ("" otherwise)
};

// srun's command; with `multi_prog_path` naming where the caller writes
// SrunCommand::multi_prog. `extra` goes before the program (e.g.
// --partition=edge, --nodes=3). An argument holding a space or a quote
// cannot go in a --multi-prog file: an error names it.
Status MakeSrunCommand(const std::string& srun, const std::vector<std::string>& extra, const std::string& node_binary,
                       std::span<const std::vector<std::string>> node_args, const std::string& multi_prog_path,
                       SrunCommand* out);

}  // namespace edgefl
