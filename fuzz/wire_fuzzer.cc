// libFuzzer target: every decoder of network bytes. Whatever the input, the
// envelope is verified or refused, and each message body goes through the
// reader its receiver uses (an Update through DecodeUpdatePayload for every
// compressor kind, then expanded, and through DecodeExactPartial as a
// relay's); nothing may crash, read out of bounds or hang. scripts/fuzz.sh builds and runs it; fuzz/corpus/wire/ holds seeds.
#include <cmath>
#include <cstdint>
#include <cstring>
#include <vector>

#include "schemas/codec/exact_partial.h"
#include "schemas/codec/model_step.h"
#include "schemas/codec/wire.h"

namespace {

using edgefl::codec::CompressorSpec;
using edgefl::codec::DecodedPayload;
using edgefl::codec::DecodeScratch;
namespace wire = edgefl::wire;
namespace codec = edgefl::codec;

constexpr uint32_t kDimension = 64;

void DecodeUpdate(const wire::Update& update) {
  static DecodeScratch scratch(kDimension);
  static std::vector<float> expanded(kDimension);
  const CompressorSpec specs[] = {
      {.kind = wire::CompressorKind::Identity},   {.kind = wire::CompressorKind::RandK, .k = 8},
      {.kind = wire::CompressorKind::Bernoulli, .p = 0.25}, {.kind = wire::CompressorKind::Qsgd, .levels = 4},
      {.kind = wire::CompressorKind::Natural},    {.kind = wire::CompressorKind::Sign},
      {.kind = wire::CompressorKind::ScaledSign}, {.kind = wire::CompressorKind::EfSign},
      {.kind = wire::CompressorKind::TopK, .k = 8},
  };
  for (const CompressorSpec& spec : specs) {
    DecodedPayload payload;
    if (!codec::DecodeUpdatePayload(update, spec, kDimension, scratch, &payload).ok()) continue;
    codec::ExpandUpdate(payload, expanded);
    for (const float v : expanded) {
      if (!std::isfinite(v)) __builtin_trap();  // a decoded update is finite, always
    }
  }
  // A relay's partial, as a root reads it: every value within what its
  // total weight of updates can sum to.
  static std::vector<codec::Int128> partial_values(kDimension);
  for (const wire::PartialKind kind : {wire::PartialKind::Sums, wire::PartialKind::Counts}) {
    codec::ExactPartial partial;
    if (!codec::DecodeExactPartial(update, kind, kDimension, partial_values, &partial).ok()) continue;
    const codec::Int128 limit = static_cast<codec::Int128>(partial.total_weight)
                                << (kind == wire::PartialKind::Sums ? 104 : 0);
    if (partial.values.size() != kDimension || partial.updates == 0) __builtin_trap();
    for (const codec::Int128 v : partial.values) {
      if (v > limit || v < -limit) __builtin_trap();
    }
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  // Message buffers are 8-byte aligned, as ZeroMQ's are.
  std::vector<uint64_t> aligned((size + 7) / 8);
  if (size > 0) std::memcpy(aligned.data(), data, size);
  const std::span<const uint8_t> bytes(reinterpret_cast<const uint8_t*>(aligned.data()), size);
  const wire::Envelope* envelope = nullptr;
  if (!codec::ReadEnvelope(bytes, &envelope).ok()) return 0;
  switch (envelope->body_type()) {
    case wire::Body::Hello: {
      codec::HelloInfo info;
      (void)codec::ReadHello(*envelope->body_as_Hello(), &info);
      break;
    }
    case wire::Body::Welcome: {
      codec::TaskSpec task;
      uint32_t heartbeat_ms = 0;
      std::span<const uint32_t> shard;
      codec::RunPosition position;
      (void)codec::ReadWelcome(*envelope->body_as_Welcome(), &task, &heartbeat_ms, &shard, &position);
      break;
    }
    case wire::Body::RoundStart: {
      uint32_t offset = 0;
      std::span<const float> values, control;
      for (const bool with_control : {false, true}) {  // SCAFFOLD's control values beside the model
        if (codec::ReadRoundStartFull(*envelope->body_as_RoundStart(), kDimension, &offset, &values, with_control,
                                      &control)
                .ok()) {
          if (offset + values.size() > kDimension) __builtin_trap();
          if (control.size() != (with_control ? values.size() : 0)) __builtin_trap();
        }
      }
      // A step part that passes its checks is applied to a replica, as a node does.
      codec::ModelStepPart part;
      if (codec::ReadRoundStartStep(*envelope->body_as_RoundStart(), kDimension, &part).ok()) {
        if (part.offset + part.length > kDimension) __builtin_trap();
        static float replica[kDimension];
        codec::ApplyModelStep(part, replica);
      }
      break;
    }
    case wire::Body::Update: {
      DecodeUpdate(*envelope->body_as_Update());
      std::span<const float> delta;
      if (codec::ReadControlDelta(*envelope->body_as_Update(), kDimension, &delta).ok() && delta.size() != kDimension) {
        __builtin_trap();
      }
      break;
    }
    case wire::Body::Error:
    case wire::Body::Bye:
    case wire::Body::Heartbeat:
    case wire::Body::ModelRequest:
    case wire::Body::NONE:
      break;
  }
  return 0;
}
