// NodeStateStore: the node's own state on its own disk, so that a resumed
// run computes what an uninterrupted one would (docs/outputs.md "Node
// state"). What a node carries across rounds (error memory, moments kept
// for the run, SCAFFOLD's c_i: NodeRuntime::persistent_state) changes only
// when it computes, so every saved copy is "the state after computing round
// `from`", valid for a run that restarts at any round R with
// from < R <= to, `to` being the next round the node computed (unbounded
// after the last). Three files in --state-dir, each written whole
// (a temporary file renamed over it):
//
//   node-<id>.before      before each computation: (last computed, this round]
//   node-<id>.checkpoint  the same copy, kept while its interval holds the
//                         latest multiple of run.checkpoint_every (a crash
//                         resumes from that checkpoint)
//   node-<id>.after       on leaving: (last computed, unbounded)
//
// When the node joins a run that starts at round R (Welcome.first_round)
// and its state is not the one valid at R (a fresh process past round 0, or
// one that has computed round R or later), it loads the copy whose interval
// holds R. Each file names its task (a hash of the Welcome's task), so a
// copy from another run is never loaded. The round loop writes with
// preallocated paths and POSIX calls: nothing is allocated. Not
// thread-safe.
#pragma once

#include <cstdint>
#include <string>

#include "core/status.h"
#include "node/node_runtime.h"

namespace edgefl {

class NodeStateStore {
 public:
  // `dir` empty: nothing is saved or restored. A runtime without state
  // saves nothing either.
  Status Open(const std::string& dir, uint32_t node_id, NodeRuntime& runtime, uint32_t checkpoint_every);
  bool active() const { return runtime_ != nullptr; }

  // The node has joined a coordinator whose next round is `first_round`
  // (`new_coordinator`: another process than the one it served before, such
  // as a resumed run's). Brings the state to the one valid there when it
  // must: a fresh process past round 0, or a new coordinator that restarts
  // at a round this process has already computed. A missing copy is a
  // warning (the state starts from zero), not an error.
  void Joined(uint32_t first_round, bool new_coordinator);
  // Before computing `round`, and after.
  Status BeforeRound(uint32_t round);
  void AfterRound(uint32_t round) { last_computed_ = round; }
  // On leaving the run (Bye, a stop, a lost coordinator).
  Status Leave();

 private:
  enum File : int { kBefore, kCheckpoint, kAfter, kFiles };
  Status Write(File file, int64_t from, int64_t to);
  // Loads the copy whose interval holds `round`; false when there is none.
  bool Load(uint32_t round);

  NodeRuntime* runtime_ = nullptr;
  uint32_t node_id_ = 0;
  uint32_t checkpoint_every_ = 0;
  uint64_t task_hash_ = 0;
  uint64_t state_bytes_ = 0;
  int64_t last_computed_ = -1;           // -1: this process has computed nothing
  int64_t checkpoint_boundary_ = -1;     // the multiple of checkpoint_every the checkpoint file holds
  std::string paths_[kFiles];
  std::string temporary_path_;
};

}  // namespace edgefl
