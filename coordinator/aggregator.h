// Aggregator: combines a round's accepted updates into one direction,
// streaming, in memory of its own choosing (O(d) for the mean and the sign
// votes), and independently of the order updates arrive in, so a seed gives
// one model bit for bit. Implementations:
//   mean       (1/n) sum_i C_i(g_i)         MeanAggregator: an exact fixed-point sum
//   sign-mean  (1/n) sum_i sign(g_i)        SignVoteAggregator: integer counts (DSignSGD, docs/theory.md 1)
//   majority   sign(sum_i sign(g_i))        SignVoteAggregator: integer counts, ties give 0
// n is the number of updates accepted this round. An aggregator also owns
// the buffers update messages are received into, since some (the mean)
// keep decoded updates as views of those bytes until they add them. Not
// thread-safe.
#pragma once

#include <cstdint>
#include <memory>
#include <span>

#include "coordinator/experiment_config.h"
#include "schemas/codec/wire.h"

namespace edgefl {

class Aggregator {
 public:
  virtual ~Aggregator() = default;

  // Starts a round: no updates.
  virtual void Reset() = 0;
  // Where the next update message is to be received: 8-byte aligned, room
  // for the largest message of the run. Valid until the next Add or Reset.
  virtual std::span<uint64_t> ReceiveBuffer() = 0;
  // Adds one decoded update of the run's compressor, whose bytes lie in the
  // buffer ReceiveBuffer() returned last.
  virtual void Add(const codec::DecodedPayload& update) = 0;
  // Updates added this round.
  virtual uint32_t count() const = 0;
  // Writes the direction, for count() > 0.
  virtual void Finish(std::span<double> direction) = 0;
};

// The aggregator a config asks for, receiving messages of at most
// `max_message_bytes` of `compressor`'s kind.
std::unique_ptr<Aggregator> MakeAggregator(AggregatorKind kind, wire::CompressorKind compressor, uint32_t dimension,
                                           size_t max_message_bytes);

}  // namespace edgefl
