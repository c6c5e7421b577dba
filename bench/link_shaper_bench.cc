// edgefl-link-shaper-bench: how closely the token bucket (net/link_shaper.h)
// holds real traffic to its rate. For each rate from 10 kb/s to 100 Mb/s a
// sender thread paces messages through a LinkShaper onto a ZeroMQ PUSH
// socket, sleeping until each is released, and the receiver (a PULL socket
// on tcp://127.0.0.1) timestamps every arrival. The measured rate is the bytes
// of messages 2..n over the time from the first arrival to the last, so the
// bucket's initial credit and the first message's own transit drop out; the
// error is against the setting. The unshaped loopback throughput of the same
// sockets comes first, as the ceiling.
//
// The messages have the exact sizes of real Updates (codec::UpdateMessageBytes):
// sign and natural at d = 1e3 (248 B, 1.1 kB), identity at d = 1e3 .. 2.6e5
// (4.1 kB .. 1 MB). Each rate sends about --seconds of them (default 2),
// cycling through the sizes whose own time on the link is at most an eighth
// of that: sign updates only at 10 kb/s, every size at 1 Mb/s and above.
// The sender uses the bucket's default burst (kDefaultBurstUs, 1 ms; another
// with --burst-us), which absorbs its timer lateness; its mean lateness
// against the schedule is printed beside each rate. The benchmark prints figures; it never fails on
// a time. Target (the issue that asked for it): within 5% from 10 kb/s to
// 100 Mb/s.
//
// Usage: edgefl-link-shaper-bench [--seconds S] [--burst-us B]
#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <thread>
#include <vector>
#include <zmq.hpp>

#include "core/clock.h"
#include "net/link_shaper.h"
#include "schemas/codec/wire.h"

namespace edgefl {
namespace {

using Kind = wire::CompressorKind;

struct Result {
  size_t messages = 0;
  uint64_t bytes = 0;   // of messages 2..n, the ones timed
  double seconds = 0.0; // first arrival to last
  double late_us = 0.0; // the sender's mean lateness against the schedule
};

// Real Update sizes, smallest first.
std::vector<size_t> UpdateSizes() {
  return {
      codec::UpdateMessageBytes({.kind = Kind::Sign}, 1000, 1000),
      codec::UpdateMessageBytes({.kind = Kind::Natural}, 1000, 1000),
      codec::UpdateMessageBytes({.kind = Kind::Identity}, 1000, 1000),
      codec::UpdateMessageBytes({.kind = Kind::Identity}, 4000, 4000),
      codec::UpdateMessageBytes({.kind = Kind::Identity}, 16000, 16000),
      codec::UpdateMessageBytes({.kind = Kind::Identity}, 64000, 64000),
      codec::UpdateMessageBytes({.kind = Kind::Identity}, 256000, 256000),
  };
}

// About `seconds` of messages at `rate_bps` (at least 8), cycling through the
// sizes whose own air time is at most seconds / 8.
std::vector<size_t> Plan(double rate_bps, double seconds) {
  std::vector<size_t> eligible;
  for (size_t size : UpdateSizes()) {
    if (eligible.empty() || 8.0 * static_cast<double>(size) / rate_bps <= seconds / 8.0) eligible.push_back(size);
  }
  std::vector<size_t> plan;
  double air_s = 0.0;
  for (size_t i = 0; plan.size() < 8 || air_s < seconds; ++i) {
    const size_t size = eligible[i % eligible.size()];
    plan.push_back(size);
    air_s += 8.0 * static_cast<double>(size) / rate_bps;
  }
  return plan;
}

// Sends `plan` from a thread, paced by `shaper` (none when null), and times
// the arrivals.
Result Transfer(zmq::context_t& context, const std::vector<size_t>& plan, LinkShaper* shaper) {
  zmq::socket_t pull(context, zmq::socket_type::pull), push(context, zmq::socket_type::push);
  for (zmq::socket_t* s : {&pull, &push}) {
    s->set(zmq::sockopt::linger, 0);
    // A few messages in flight: the unshaped sender must not queue a
    // gigabyte ahead of the receiver.
    s->set(zmq::sockopt::sndhwm, 16);
    s->set(zmq::sockopt::rcvhwm, 16);
  }
  pull.bind("tcp://127.0.0.1:*");
  push.connect(pull.get(zmq::sockopt::last_endpoint));
  // The first message waits for the connection; it is not timed.
  const size_t largest = *std::max_element(plan.begin(), plan.end());
  std::vector<uint8_t> payload(largest, 0xA5);

  double late_sum_us = 0.0;
  std::thread sender([&] {
    int64_t handed_over = NowUs();
    for (size_t size : plan) {
      if (shaper != nullptr) {
        const int64_t release = shaper->ReleaseAtUs(size, handed_over);
        std::this_thread::sleep_until(std::chrono::steady_clock::time_point(std::chrono::microseconds(release)));
        late_sum_us += static_cast<double>(NowUs() - release);
      }
      push.send(zmq::const_buffer(payload.data(), size), zmq::send_flags::none);
      handed_over = NowUs();
    }
  });
  Result r;
  int64_t first_us = 0, last_us = 0;
  zmq::message_t message;
  for (size_t i = 0; i < plan.size(); ++i) {
    (void)pull.recv(message);
    last_us = NowUs();
    if (i == 0) {
      first_us = last_us;
    } else {
      r.bytes += message.size();
    }
  }
  sender.join();
  r.messages = plan.size();
  r.seconds = static_cast<double>(last_us - first_us) / 1e6;
  r.late_us = late_sum_us / static_cast<double>(plan.size());
  return r;
}

std::string RateText(double bps) {
  char text[32];
  if (bps >= 1e9) {
    std::snprintf(text, sizeof(text), "%.4g Gb/s", bps / 1e9);
  } else if (bps >= 1e6) {
    std::snprintf(text, sizeof(text), "%.4g Mb/s", bps / 1e6);
  } else {
    std::snprintf(text, sizeof(text), "%.4g kb/s", bps / 1e3);
  }
  return text;
}

}  // namespace
}  // namespace edgefl

int main(int argc, char** argv) {
  using namespace edgefl;
  double seconds = 2.0, burst_us = kDefaultBurstUs;
  for (int i = 1; i < argc; ++i) {
    if (std::strcmp(argv[i], "--seconds") == 0 && i + 1 < argc) {
      seconds = std::atof(argv[++i]);
    } else if (std::strcmp(argv[i], "--burst-us") == 0 && i + 1 < argc) {
      burst_us = std::atof(argv[++i]);
    } else {
      std::fprintf(stderr, "usage: edgefl-link-shaper-bench [--seconds S] [--burst-us B]\n");
      return 2;
    }
  }
  if (!(seconds > 0.0 && seconds <= 600.0)) {
    std::fprintf(stderr, "--seconds %g: must be in (0, 600]\n", seconds);
    return 2;
  }
  if (!(burst_us >= 0.0 && burst_us <= 1e6)) {
    std::fprintf(stderr, "--burst-us %g: must be in [0, 1000000]\n", burst_us);
    return 2;
  }
  zmq::context_t context;
  std::printf("edgefl-link-shaper-bench: net/link_shaper.h (burst %.0f us) pacing real update sizes over ZeroMQ "
              "PUSH/PULL on tcp://127.0.0.1, about %.3g s a rate\n\n",
              burst_us, seconds);

  // The ceiling: the same sockets, unshaped, the same mix of sizes (1.4 GB,
  // about a second).
  std::vector<size_t> unshaped;
  const std::vector<size_t> sizes = UpdateSizes();
  for (int i = 0; i < 1000; ++i) unshaped.insert(unshaped.end(), sizes.begin(), sizes.end());
  const Result raw = Transfer(context, unshaped, nullptr);
  std::printf("unshaped loopback (baseline): %zu messages, %.1f MB in %.3f s = %s\n\n", raw.messages,
              static_cast<double>(raw.bytes) / 1e6, raw.seconds,
              RateText(8.0 * static_cast<double>(raw.bytes) / raw.seconds).c_str());

  std::printf("%-12s %9s %12s %9s %13s %9s %12s\n", "setting", "messages", "bytes timed", "seconds", "measured",
              "error", "sender late");
  for (double rate : {10e3, 100e3, 1e6, 10e6, 100e6}) {
    LinkShaper shaper(LinkShape{.rate_bps = rate, .burst_us = burst_us});
    const Result r = Transfer(context, Plan(rate, seconds), &shaper);
    const double measured = 8.0 * static_cast<double>(r.bytes) / r.seconds;
    std::printf("%-12s %9zu %12llu %9.3f %13s %+8.2f%% %9.0f us\n", RateText(rate).c_str(), r.messages,
                static_cast<unsigned long long>(r.bytes), r.seconds, RateText(measured).c_str(),
                100.0 * (measured - rate) / rate, r.late_us);
    std::fflush(stdout);
  }
  return 0;
}
