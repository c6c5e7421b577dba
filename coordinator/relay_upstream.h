// RelayUpstream: a relay's link to the coordinator above it
// (relay_topology.h). One DEALER socket, routing id "node-<group>", over
// which the relay is a participant as a node is (docs/protocol.md 11): it
// joins with a relay's Hello (Hello.relay_nodes), is told its task in
// Welcome (which must be the one its own config gives relay `group`: both
// ends must run one config), keeps the coordinator told it is alive with
// Heartbeats, takes each round's model into a replica as a node does
// (node/model_replica.h: the whole model, or under round.downlink = "step"
// the steps since the one it holds, asking for the model when it cannot
// take them), keeps the steps it took, as they came, for its own nodes, and
// sends one Update a round whose payload is its nodes' exact partial. Bye
// from above ends the relay's run. Every message is verified and checked
// before use. Not thread-safe: the relay's loop owns it.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <vector>
#include <zmq.hpp>

#include "coordinator/downlink_step.h"
#include "core/status.h"
#include "experiment/experiment_config.h"
#include "flatbuffers/flatbuffers.h"
#include "net/curve_keys.h"
#include "node/model_replica.h"

namespace edgefl {

class RelayUpstream {
 public:
  // Relay `group` of a run of `config`, serving `nodes_served` nodes.
  RelayUpstream(const ExperimentConfig& config, uint32_t group, uint32_t nodes_served);

  // Connects to `endpoint`; with CURVE when `key` is given: this relay's key
  // pair and the coordinator's public key.
  void Connect(const std::string& endpoint, const CurveKeyPair& key = {}, const std::string& server_public_key = "");
  // The socket's handle, for a poll that also waits on the relay's nodes.
  void* handle() { return socket_.handle(); }

  // What Drain found.
  enum class Event : uint8_t {
    kNone,
    kJoined,  // the Welcome: the relay is in the run
    kModel,   // a round's model is complete: round(), model()
    kBye,     // the coordinator above ended the run: bye_reason()
  };
  // Handles the messages waiting, without blocking, until one is an event
  // (the rest wait for the next call); sends a Hello or a Heartbeat when one
  // is due at `now_ms`. An error: refused, or a message that breaks the
  // protocol.
  Status Drain(int64_t now_ms, Event* event);
  bool joined() const { return joined_; }
  uint32_t round() const { return round_; }
  std::span<const float> model() const { return model_; }
  // How the last complete model came: whole (no steps), or by the steps in
  // steps() (oldest first, each as the coordinator above sent it), which the
  // relay hands on to its nodes.
  bool came_whole() const { return came_whole_; }
  std::vector<StepRecord>& steps() { return steps_; }
  const std::string& bye_reason() const { return bye_reason_; }
  // When the coordinator above was last heard from (0: never).
  int64_t last_heard_ms() const { return last_heard_ms_; }

  // Sends the Heartbeat (or, not joined yet, the Hello) due at `now_ms`,
  // reading nothing: for a relay busy computing its in-process nodes.
  void KeepAlive(int64_t now_ms);
  // Sends the message in `fbb` (an Update, a Bye); false when it could not
  // leave now.
  bool Send(const flatbuffers::FlatBufferBuilder& fbb);
  // Tells the coordinator above that the relay leaves.
  void SayBye(const char* reason);

 private:
  Status Handle(std::span<const uint8_t> bytes, Event* event);
  Status TakeWelcome(const void* welcome);
  Status TakeModelPart(const wire::Envelope& envelope, size_t bytes, Event* event);
  // Keeps a step part as its StepRecord's (a new record when the version changes).
  void KeepStepPart(const wire::RoundStart& start, size_t bytes);

  const ExperimentConfig& config_;
  const uint32_t group_;
  const uint32_t nodes_served_;
  const uint32_t dimension_;
  zmq::context_t context_{1};
  zmq::socket_t socket_;
  flatbuffers::FlatBufferBuilder fbb_{1024};
  std::vector<uint64_t> buffer_;  // one message, 8-byte aligned for the verifier
  std::vector<float> model_;
  ModelReplica replica_;
  uint32_t round_ = 0;          // the round of the last complete model
  bool came_whole_ = true;
  std::vector<StepRecord> steps_;  // the steps taken towards the model being completed
  bool joined_ = false;
  int64_t next_send_ms_ = 0;    // the next Hello (not joined) or Heartbeat
  uint32_t heartbeat_ms_ = 0;
  int64_t last_heard_ms_ = 0;
  std::string bye_reason_;
};

}  // namespace edgefl
