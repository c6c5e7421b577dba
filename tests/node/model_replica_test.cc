// ModelReplica: a node's model assembled from full parts and kept up by
// steps; a step it cannot take (no model, a version it lacks, parts out of
// order, a hash that does not match) asks for the model, once a round, and
// taking the model it is sent puts it right; every step part the
// coordinator sends fits a node's receive buffer.
#include "node/model_replica.h"

#include <doctest/doctest.h>

#include <algorithm>
#include <cstring>
#include <vector>

#include "node/node_runtime.h"
#include "schemas/codec/model_step.h"
#include "schemas/codec/wire.h"

namespace edgefl {
namespace {

constexpr uint32_t kD = codec::kRoundStartPartValues + 50;  // two parts

// The coordinator's side: a model and the messages that carry it.
struct Coordinator {
  std::vector<float> model = std::vector<float>(kD, 1.0f);
  std::vector<float> step = std::vector<float>(kD, 0.25f);
  flatbuffers::FlatBufferBuilder fbb;
  std::vector<uint64_t> storage;

  const wire::Envelope& Message() {
    storage.assign((fbb.GetSize() + 7) / 8, 0);
    std::memcpy(storage.data(), fbb.GetBufferPointer(), fbb.GetSize());
    const wire::Envelope* e = nullptr;
    REQUIRE(codec::ReadEnvelope({reinterpret_cast<const uint8_t*>(storage.data()), fbb.GetSize()}, &e).ok());
    return *e;
  }
  // Model part `p` of round `round`.
  const wire::Envelope& Full(uint32_t round, uint32_t p) {
    const uint32_t offset = p * codec::kRoundStartPartValues;
    codec::EncodeRoundStartFull(fbb, round, std::span<const float>(model).subspan(offset, codec::PartLength(kD, offset)),
                                offset);
    return Message();
  }
  // Moves the model by the step to `version` (parts of it sent with StepPart).
  void Step(uint32_t version) {
    version_ = version;
    for (uint32_t p = 0; p < 2; ++p) codec::ApplyModelStep(Part(p), model);
    hash_ = codec::ReplicaHash(model);
  }
  const wire::Envelope& StepPart(uint32_t round, uint32_t p, uint64_t hash_xor = 0) {
    codec::ModelStepPart part = Part(p);
    part.model_hash = hash_ ^ hash_xor;
    codec::EncodeRoundStartStep(fbb, round, part);
    return Message();
  }

 private:
  codec::ModelStepPart Part(uint32_t p) {
    codec::ModelStepPart part;
    part.version = version_;
    part.offset = p * codec::kRoundStartPartValues;
    part.length = codec::PartLength(kD, part.offset);
    part.step_size = 0.5;
    part.payload.type = wire::Payload::DenseF32;
    part.payload.values = std::span<const float>(step).subspan(part.offset, part.length);
    return part;
  }
  uint32_t version_ = 0;
  uint64_t hash_ = 0;
};

using Outcome = ModelReplica::Outcome;

TEST_CASE("a replica takes the model, then steps, and stays equal to the coordinator's model") {
  Coordinator c;
  std::vector<float> buffer(kD, 0.0f);
  ModelReplica replica(buffer, {});
  Status why;
  CHECK(replica.Take(c.Full(0, 0), &why) == Outcome::kPending);
  CHECK(replica.Take(c.Full(0, 1), &why) == Outcome::kComplete);
  CHECK(replica.round() == 0);
  for (uint32_t round = 1; round <= 3; ++round) {
    c.Step(round);
    CHECK(replica.Take(c.StepPart(round, 0), &why) == Outcome::kPending);
    CHECK_FALSE(replica.holds());  // half the step applied
    CHECK(replica.Take(c.StepPart(round, 1), &why) == Outcome::kComplete);
    CHECK(replica.round() == round);
    CHECK(buffer == c.model);
  }
  // Catching up: two steps in round 6 (versions 4 and 5, then 6).
  for (uint32_t version = 4; version <= 6; ++version) {
    c.Step(version);
    CHECK(replica.Take(c.StepPart(6, 0), &why) == Outcome::kPending);
    CHECK(replica.Take(c.StepPart(6, 1), &why) == (version == 6 ? Outcome::kComplete : Outcome::kPending));
  }
  CHECK(buffer == c.model);
}

TEST_CASE("a step the replica cannot take asks for the model once a round; the model puts it right") {
  Coordinator c;
  std::vector<float> buffer(kD, 0.0f);
  ModelReplica replica(buffer, {});
  Status why;
  c.Step(1);
  // No model yet.
  CHECK(replica.Take(c.StepPart(1, 0), &why) == Outcome::kNeedModel);
  CHECK(std::string(why.message()) == "round 1: a step, and no model to apply it to");
  CHECK(replica.Take(c.StepPart(1, 1), &why) == Outcome::kPending);  // asked already: waits for the model
  CHECK(replica.Take(c.Full(1, 0), &why) == Outcome::kPending);
  CHECK(replica.Take(c.Full(1, 1), &why) == Outcome::kComplete);
  CHECK(buffer == c.model);

  // A step from a version it does not hold (it missed version 2).
  c.Step(2);
  c.Step(3);
  CHECK(replica.Take(c.StepPart(3, 0), &why) == Outcome::kNeedModel);
  CHECK(std::string(why.message()) == "round 3: a step from the model of round 2, and this node holds round 1's");
  CHECK(replica.Take(c.Full(3, 0), &why) == Outcome::kPending);
  CHECK(replica.Take(c.Full(3, 1), &why) == Outcome::kComplete);

  // A hash that does not match (a lost or altered part).
  c.Step(4);
  CHECK(replica.Take(c.StepPart(4, 0), &why) == Outcome::kPending);
  CHECK(replica.Take(c.StepPart(4, 1, /*hash_xor=*/1), &why) == Outcome::kNeedModel);
  CHECK(std::string(why.message()) == "round 4: the model after the step to round 4 does not match its hash");
  CHECK_FALSE(replica.holds());

  // A part lost on the way (part 0 of step 5 never comes): the hash after
  // the last part finds it.
  CHECK(replica.Take(c.Full(4, 0), &why) == Outcome::kPending);
  CHECK(replica.Take(c.Full(4, 1), &why) == Outcome::kComplete);
  c.Step(5);
  CHECK(replica.Take(c.StepPart(5, 1), &why) == Outcome::kNeedModel);
  CHECK(std::string(why.message()) == "round 5: the model after the step to round 5 does not match its hash");
  // Parts out of order: the second, then the first again.
  CHECK(replica.Take(c.Full(5, 0), &why) == Outcome::kPending);
  CHECK(replica.Take(c.Full(5, 1), &why) == Outcome::kComplete);
  c.Step(6);
  CHECK(replica.Take(c.StepPart(6, 1), &why) == Outcome::kNeedModel);  // the step's last part first: hash fails
  c.Step(7);
  CHECK(replica.Take(c.Full(7, 0), &why) == Outcome::kPending);
  CHECK(replica.Take(c.Full(7, 1), &why) == Outcome::kComplete);
  c.Step(8);
  CHECK(replica.Take(c.StepPart(8, 0), &why) == Outcome::kPending);
  CHECK(replica.Take(c.StepPart(8, 0), &why) == Outcome::kNeedModel);
  CHECK(std::string(why.message()) == "round 8: step part at 0 after one ending at 16384");
}

TEST_CASE("a step to a later round than its own, or in a run with a control variate, is rejected") {
  Coordinator c;
  std::vector<float> buffer(kD, 0.0f), control(kD, 0.0f);
  Status why;
  ModelReplica replica(buffer, {});
  c.Step(5);
  CHECK(replica.Take(c.StepPart(4, 0), &why) == Outcome::kRejected);
  CHECK(std::string(why.message()) == "step to the model of round 5 in round 4");
  ModelReplica scaffold(buffer, control);
  CHECK(scaffold.Take(c.StepPart(5, 0), &why) == Outcome::kRejected);
}

}  // namespace
}  // namespace edgefl

namespace edgefl {
namespace {

TEST_CASE("the largest step part the coordinator sends (dense, a whole part) fits a node's receive buffer") {
  for (const uint32_t d : {1u, 100u, codec::kRoundStartPartValues, 5u * codec::kRoundStartPartValues + 7}) {
    CAPTURE(d);
    codec::TaskSpec task;
    task.objective.dimension = d;
    task.num_nodes = 1;
    size_t largest = 0;
    for (uint32_t offset = 0; offset < d; offset += codec::kRoundStartPartValues) {
      const uint32_t length = codec::PartLength(d, offset);
      largest = std::max(largest, codec::StepPartBytes(d, offset, wire::Payload::DenseF32, 1));
      // A sparse part is sent only while smaller than a dense one (8 bytes a value under 4 a coordinate).
      largest = std::max(largest, codec::StepPartBytes(d, offset, wire::Payload::SparseF32, 1, (length - 1) / 2));
      largest = std::max(largest, codec::StepPartBytes(d, offset, wire::Payload::Quantized, 0xFFFF));
    }
    CHECK(largest <= MaxRoundStartBytes(task));
  }
}

}  // namespace
}  // namespace edgefl
