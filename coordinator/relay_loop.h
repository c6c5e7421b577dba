// RelayLoop: a relay's life (relay_topology.h). It joins the coordinator
// above (RelayUpstream), then waits until every node it serves has joined
// it; then, each time the coordinator above sends a round's model, it sends
// that model to its live nodes (under round.downlink = "step", the steps it
// came by, as they came: ModelBroadcast keeps them for its nodes), collects their updates as a coordinator's
// round does (RoundIntake, UpdateCollector: checked, decoded, added to the
// exact aggregator) until every one has answered or its deadline, and sends
// the coordinator above one Update holding their exact partial. It takes no
// step and evaluates nothing: the model is the coordinator above's. Each
// round's row in its own run folder counts its tier's bytes (model down to
// its nodes, their updates up). A relay's deadline is 90% of
// round.deadline_ms from the model's arrival, so that its partial reaches
// the coordinator above within that one's deadline; a round whose model
// above has been replaced by the next round's is abandoned. Ends when the
// coordinator above says Bye (it tells its nodes), or on a signal.
//
// In-process nodes (edgefl-coordinator --in-process): the relay's nodes are
// computed in its own process (LocalNodes, node/in_process_nodes.h) with the
// node's code, one after another, and each Update's bytes go through the
// same checks, decoding and exact sums as a socket's would: a process of K
// logical nodes sends one message a round. Not thread-safe.
#pragma once

#include <atomic>
#include <vector>

#include "coordinator/cohort_sampler.h"
#include "coordinator/message_handler.h"
#include "coordinator/model_broadcast.h"
#include "coordinator/relay_upstream.h"
#include "coordinator/round_intake.h"
#include "coordinator/session.h"
#include "runfiles/run_outcome.h"

namespace edgefl {

// Nodes a relay computes itself: node `id`'s Update for `round` at `model`,
// as the bytes edgefl-node would send (valid until the next call).
class LocalNodes {
 public:
  virtual ~LocalNodes() = default;
  virtual std::span<const uint8_t> Compute(uint32_t id, uint32_t round, std::span<const float> model) = 0;
};

class RelayLoop {
 public:
  // `local`: the relay's nodes, computed in this process (null: they connect).
  RelayLoop(Session& session, RelayUpstream& upstream, LocalNodes* local = nullptr);

  // Joins above, then waits for the relay's nodes, then serves rounds until
  // the coordinator above ends the run.
  Status Run(const std::atomic<bool>& stop, RunOutcome* outcome);
  // Tells the relay's nodes the run is over (and the coordinator above,
  // when it has not said so itself).
  void SayBye(const char* reason);

 private:
  // Waits up to `timeout_ms` for a message from either side, handles it,
  // and returns what came from above. An error: the coordinator above
  // refused the relay, broke the protocol, or has gone silent.
  Status Poll(int64_t timeout_ms, RelayUpstream::Event* event);
  // One round at the model the coordinator above sent; *next is set when a
  // later round's model or the end came from above before this one was done.
  Status RunRound(const std::atomic<bool>& stop, RelayUpstream::Event* next);
  // In-process nodes: each participant's update computed and taken.
  void ComputeLocally(uint32_t round);
  // Sends the round's partial above: the exact combination of the updates counted.
  void SendPartial();

  Session& s_;
  RelayUpstream& upstream_;
  LocalNodes* local_;
  RoundIntake intake_;
  ModelBroadcast broadcast_;
  CohortSampler cohort_;
  std::vector<uint32_t> cohort_members_;  // this round's, over the population
  MessageHandler handler_;
  std::vector<codec::Int128> partial_values_;
  flatbuffers::FlatBufferBuilder up_fbb_{4096};
  int64_t rounds_start_ms_ = 0;
  bool bye_from_above_ = false;
};

}  // namespace edgefl
