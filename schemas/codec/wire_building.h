// The codec's own building blocks, shared by its encoders and readers
// (wire.cc, model_step.cc); not for use outside schemas/codec.
#pragma once

#include <cstdint>
#include <span>

#include "flatbuffers/flatbuffers.h"
#include "schemas/codec/wire.h"

namespace edgefl::codec {

// Wraps `body` in the Envelope and finishes the buffer with "EDFL".
void FinishEnvelope(flatbuffers::FlatBufferBuilder& fbb, uint32_t round, wire::Body type,
                    flatbuffers::Offset<void> body, uint16_t version = kProtocolVersion);

template <typename T>
flatbuffers::Offset<flatbuffers::Vector<T>> CopyVector(flatbuffers::FlatBufferBuilder& fbb,
                                                       std::span<const T> values) {
  return fbb.CreateVector(values.data(), values.size());
}

// The payload table `p` describes, its vectors first.
flatbuffers::Offset<void> EncodePayload(flatbuffers::FlatBufferBuilder& fbb, const PayloadView& p);

// A vector of the message as a span; empty when the field is absent.
template <typename T>
std::span<const T> AsSpan(const flatbuffers::Vector<T>* v) {
  if (v == nullptr) return {};
  return {v->data(), v->size()};
}

}  // namespace edgefl::codec
