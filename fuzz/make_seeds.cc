// Writes the fuzzers' seed corpora (fuzz/corpus/): one well-formed message
// of every kind the coordinator and the nodes read, and an update of every
// compressor at the fuzzers' dimension, made by the node's own runtime, and
// for the handler a round of two weighted updates for each weighted setup.
//   edgefl-fuzz-seeds fuzz/corpus
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>
#include <utility>
#include <vector>

#include "experiment/experiment_config.h"
#include "node/arena.h"
#include "node/node_runtime.h"
#include "schemas/codec/exact_partial.h"
#include "schemas/codec/wire.h"

namespace {

using namespace edgefl;

void Write(const std::string& path, std::span<const uint8_t> bytes) {
  std::ofstream(path, std::ios::binary).write(reinterpret_cast<const char*>(bytes.data()),
                                              static_cast<std::streamsize>(bytes.size()));
}
void Write(const std::string& path, const flatbuffers::FlatBufferBuilder& fbb) {
  Write(path, {fbb.GetBufferPointer(), fbb.GetSize()});
}

// The handler fuzzer's framing: [node][size LE16][bytes], after a setup byte.
std::vector<uint8_t> Framed(uint8_t setup, uint8_t node, std::span<const uint8_t> message) {
  std::vector<uint8_t> out = {setup, node, static_cast<uint8_t>(message.size()),
                              static_cast<uint8_t>(message.size() >> 8)};
  out.insert(out.end(), message.begin(), message.end());
  return out;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: edgefl-fuzz-seeds CORPUS_DIR\n");
    return 2;
  }
  const std::string wire_dir = std::string(argv[1]) + "/wire", handler_dir = std::string(argv[1]) + "/handler";
  std::filesystem::create_directories(wire_dir);
  std::filesystem::create_directories(handler_dir);
  flatbuffers::FlatBufferBuilder fbb;
  codec::EncodeHello(fbb, {1, 64, 0, 0});
  Write(wire_dir + "/hello", fbb);
  Write(handler_dir + "/hello", Framed(0, 1, {fbb.GetBufferPointer(), fbb.GetSize()}));
  ExperimentConfig config;
  config.nodes = 4;
  config.objective.dimension = 64;
  // A shaped link, so that the Welcome seed holds every LinkSpec field.
  config.link = {.preset = LinkPreset::kLoraWan, .shaping = LinkShaping::kTokenBucket, .uplink_bps = 0.0,
                 .downlink_bps = 1e6, .latency_ms = 20.0, .compute_ms = 5.0};
  codec::EncodeWelcome(fbb, config.TaskFor(1), 500, {});
  Write(wire_dir + "/welcome", fbb);
  std::vector<float> model(64, 0.5f);
  codec::EncodeRoundStartFull(fbb, 3, model, 0);
  Write(wire_dir + "/round_start", fbb);
  codec::EncodeHeartbeat(fbb, 3, 1);
  Write(wire_dir + "/heartbeat", fbb);
  codec::EncodeBye(fbb, 3, 1, "done");
  Write(wire_dir + "/bye", fbb);
  codec::EncodeError(fbb, 3, wire::ErrorCode::UnknownNode, "send Hello");
  Write(wire_dir + "/error", fbb);
  // An update of every compressor, as the handler fuzzer's setups list them.
  const codec::CompressorSpec compressors[] = {
      {.kind = wire::CompressorKind::Identity},   {.kind = wire::CompressorKind::RandK, .k = 8},
      {.kind = wire::CompressorKind::Bernoulli, .p = 0.25}, {.kind = wire::CompressorKind::Qsgd, .levels = 4},
      {.kind = wire::CompressorKind::Natural},    {.kind = wire::CompressorKind::Sign},
      {.kind = wire::CompressorKind::Sign},       {.kind = wire::CompressorKind::ScaledSign},
      {.kind = wire::CompressorKind::EfSign},     {.kind = wire::CompressorKind::TopK, .k = 8},
  };
  for (uint8_t setup = 0; setup < std::size(compressors); ++setup) {
    config.compressor = compressors[setup];
    const codec::TaskSpec task = config.TaskFor(1);
    Arena arena(PlanNodeMemory(task).total_bytes);
    NodeRuntime runtime(task, arena);
    const std::span<const uint8_t> update = runtime.ComputeUpdate(0, model);
    const std::string name = std::string("update_") + codec::CompressorName(task.compressor.kind) + "_" +
                             std::to_string(setup);
    Write(wire_dir + "/" + name, update);
    // Two nodes' updates for a round, so that an aggregate is made.
    std::vector<uint8_t> two = Framed(setup, 1, update);
    const std::vector<uint8_t> second = Framed(0, 2, update);
    two.insert(two.end(), second.begin() + 1, second.end());
    Write(handler_dir + "/" + name, two);
  }
  // The handler fuzzer's weighted setups (aggregator.weighting = "samples",
  // kSetups 16 to 21): two nodes of different weights, their batch sizes.
  const std::pair<uint8_t, codec::CompressorSpec> weighted[] = {
      {16, {.kind = wire::CompressorKind::Identity}},   {17, {.kind = wire::CompressorKind::Qsgd, .levels = 4}},
      {18, {.kind = wire::CompressorKind::RandK, .k = 8}}, {19, {.kind = wire::CompressorKind::ScaledSign}},
      {20, {.kind = wire::CompressorKind::Sign}},       {21, {.kind = wire::CompressorKind::Sign}},
  };
  for (const auto& [setup, compressor] : weighted) {
    config.compressor = compressor;
    std::vector<uint8_t> two = {setup};
    for (const uint8_t node : {1, 2}) {
      config.batch_size = node == 1 ? 3 : 5;
      const codec::TaskSpec task = config.TaskFor(node);
      Arena arena(PlanNodeMemory(task).total_bytes);
      NodeRuntime runtime(task, arena);
      const std::vector<uint8_t> framed = Framed(setup, node, runtime.ComputeUpdate(0, model));
      two.insert(two.end(), framed.begin() + 1, framed.end());
    }
    Write(handler_dir + "/update_" + codec::CompressorName(compressor.kind) + "_" + std::to_string(setup) +
              "_weighted",
          two);
  }
  // A relay's partials (docs/protocol.md 11): sums of two updates, and
  // counts; for the handler fuzzer's roots of two relays (setups 22 and 23),
  // both relays' partials of round 0.
  std::vector<codec::Int128> values(64);
  const auto encode = [&](wire::PartialKind kind, uint32_t round, uint32_t relay) {
    codec::EncodeExactPartial(fbb, round, codec::UpdateHeader{.node_id = relay},
                              {.kind = kind, .updates = 2, .total_weight = 2, .weight_gcd = 1, .bounded = 0,
                               .values = values});
    return std::span<const uint8_t>(fbb.GetBufferPointer(), fbb.GetSize());
  };
  for (const wire::PartialKind kind : {wire::PartialKind::Sums, wire::PartialKind::Counts}) {
    for (size_t j = 0; j < values.size(); ++j) {
      const int vote = static_cast<int>(j % 5) - 2;
      values[j] = kind == wire::PartialKind::Sums ? (codec::Int128{1} << 60) * vote : vote;
    }
    const std::string name = std::string("/update_partial_") + wire::EnumNamePartialKind(kind);
    Write(wire_dir + name, encode(kind, 2, 1));
    const uint8_t setup = kind == wire::PartialKind::Sums ? 22 : 23;
    std::vector<uint8_t> two = Framed(setup, 0, encode(kind, 0, 0));
    const std::vector<uint8_t> second = Framed(setup, 1, encode(kind, 0, 1));
    two.insert(two.end(), second.begin() + 1, second.end());
    Write(handler_dir + name, two);
  }
  std::printf("seeds in %s and %s\n", wire_dir.c_str(), handler_dir.c_str());
  return 0;
}
