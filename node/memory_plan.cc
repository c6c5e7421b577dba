#include "node/memory_plan.h"

#include <cassert>

namespace edgefl {
namespace {

size_t Rounded(size_t bytes) { return (bytes + Arena::kAlignment - 1) / Arena::kAlignment * Arena::kAlignment; }

}  // namespace

const char* NodeBufferName(NodeBuffer buffer) {
  switch (buffer) {
    case NodeBuffer::kDataShard:
      return "data shard";
    case NodeBuffer::kDataShardLabels:
      return "data shard labels";
    case NodeBuffer::kMinibatch:
      return "minibatch";
    case NodeBuffer::kMinibatchLabels:
      return "minibatch labels";
    case NodeBuffer::kClassifierWorkspace:
      return "classifier workspace";
    case NodeBuffer::kObjectiveSpectrum:
      return "objective spectrum";
    case NodeBuffer::kModelReplica:
      return "model replica";
    case NodeBuffer::kGradient:
      return "gradient";
    case NodeBuffer::kLocalModel:
      return "local model";
    case NodeBuffer::kDirectionSum:
      return "direction sum";
    case NodeBuffer::kFirstMoment:
      return "first moment";
    case NodeBuffer::kSecondMoment:
      return "second moment";
    case NodeBuffer::kClientControl:
      return "node control variate";
    case NodeBuffer::kServerControl:
      return "server control variate";
    case NodeBuffer::kControlDelta:
      return "control delta";
    case NodeBuffer::kCompressorBuffers:
      return "compressor buffers";
    case NodeBuffer::kReceiveBuffer:
      return "receive buffer";
    case NodeBuffer::kUpdateMessage:
      return "update message";
    case NodeBuffer::kControlMessage:
      return "control message";
    case NodeBuffer::kCount:
      break;
  }
  return "unknown";
}

void MemoryPlan::Add(NodeBuffer buffer, size_t size_bytes) {
  const auto i = static_cast<size_t>(buffer);
  assert(!used[i] && "a buffer is planned once");
  if (used[i]) total_bytes -= Rounded(bytes[i]);
  used[i] = true;
  bytes[i] = size_bytes;
  total_bytes += Rounded(size_bytes);
}

}  // namespace edgefl
