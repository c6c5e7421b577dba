// edgefl-round-bench: a round's time through the real binaries against a raw
// ZeroMQ transfer of the same bytes, in the same run, on the same machine.
// The baseline is a ROUTER that sends each of N DEALERs the model as
// edgefl's RoundStart parts would carry it (codec::RoundStartBytes, in parts
// of kRoundStartPartValues values; each part copied once and shared by
// reference among its N sends, as the coordinator's broadcast does) and
// waits until every DEALER has answered with an update's bytes
// (codec::UpdateMessageBytes): the transfer with no computing, encoding or
// checking. Every figure is a median over rounds (1..R-1 for edgefl run),
// which a busy machine's odd slow round does not move. Then `edgefl run` on a quadratic with no
// gradient noise, once with a process a node and once with --logical K nodes
// a process, its seconds a round from metrics.csv over rounds 1..R-1. Two
// more rows say what bounds the ratio: the nodes' own computation alone
// (NodeRuntime::ComputeUpdate N times, split over two cores), and `edgefl
// run --relays 2 --in-process`, whose nodes are computed by two relay
// processes and send no message of their own (so it moves far fewer bytes
// than the baseline: a different round, for simulations). It prints the
// figures and the ratios to the baseline; it never fails on a time.
//
// Usage: edgefl-round-bench [--nodes N] [--dimension D] [--rounds R]
//                           [--compressor sign|identity] [--logical K]
#include <stdlib.h>

#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <string>
#include <thread>
#include <vector>
#include <zmq.hpp>

#include "bench/edgefl_runs.h"
#include "bench/node_compute.h"
#include "schemas/codec/wire.h"

namespace {

using Clock = std::chrono::steady_clock;

// Seconds a round of the raw transfer: `parts` messages totalling
// `down_bytes` to each of `nodes` DEALERs, one `up_bytes` answer from each.
double RawRoundSeconds(unsigned nodes, size_t down_bytes, unsigned parts, size_t up_bytes, unsigned rounds) {
  zmq::context_t context(2);
  zmq::socket_t router(context, zmq::socket_type::router);
  router.set(zmq::sockopt::sndhwm, 0);
  router.set(zmq::sockopt::rcvhwm, 0);
  router.bind("tcp://127.0.0.1:*");
  const std::string endpoint = router.get(zmq::sockopt::last_endpoint);
  std::vector<std::thread> dealers;
  for (unsigned i = 0; i < nodes; ++i) {
    dealers.emplace_back([&, i] {
      zmq::socket_t dealer(context, zmq::socket_type::dealer);
      dealer.set(zmq::sockopt::routing_id, "node-" + std::to_string(i));
      dealer.set(zmq::sockopt::rcvhwm, 0);
      dealer.connect(endpoint);
      const std::vector<uint8_t> update(up_bytes, 1);
      dealer.send(zmq::buffer(update));  // hello: the router learns this dealer
      for (unsigned r = 0; r < rounds; ++r) {
        for (unsigned p = 0; p < parts; ++p) {
          zmq::message_t part;
          if (!dealer.recv(part)) return;
        }
        dealer.send(zmq::buffer(update));
      }
    });
  }
  std::vector<std::string> ids;
  for (unsigned i = 0; i < nodes; ++i) {
    zmq::message_t id, hello;
    (void)router.recv(id);
    (void)router.recv(hello);
    ids.push_back(id.to_string());
  }
  const std::vector<uint8_t> part(down_bytes / parts, 2);
  std::vector<double> times;
  for (unsigned r = 0; r < rounds; ++r) {
    const auto start = Clock::now();
    for (unsigned p = 0; p < parts; ++p) {
      // One copy of the part, shared by reference among its N sends (as
      // the coordinator's broadcast does): the fastest raw transfer.
      zmq::message_t staged(part.data(), part.size());
      for (const std::string& id : ids) {
        router.send(zmq::buffer(id), zmq::send_flags::sndmore);
        zmq::message_t shared;
        shared.copy(staged);
        router.send(shared, zmq::send_flags::none);
      }
    }
    for (unsigned i = 0; i < nodes; ++i) {
      zmq::message_t id, answer;
      (void)router.recv(id);
      (void)router.recv(answer);
    }
    times.push_back(std::chrono::duration<double>(Clock::now() - start).count());
  }
  for (std::thread& dealer : dealers) dealer.join();
  return edgefl::bench::Median(times);
}

// The median seconds of `edgefl run`'s rounds 1..R-1; 0 when it failed.
double EdgeflRoundSeconds(const std::string& bin, const std::string& dir, const std::string& name,
                          const std::string& flags) {
  const std::string metrics = edgefl::bench::RunEdgefl(bin, dir, name, flags, "round");
  return metrics.empty() ? 0.0
                         : edgefl::bench::MedianSecondsPerRound(edgefl::bench::MetricsColumn(metrics, "time_s"));
}

}  // namespace

int main(int argc, char** argv) {
  unsigned nodes = 64, d = 1000000, rounds = 6, logical = 8;
  std::string compressor = "sign";
  for (int i = 1; i + 1 < argc; i += 2) {
    if (std::strcmp(argv[i], "--nodes") == 0) nodes = static_cast<unsigned>(std::atol(argv[i + 1]));
    if (std::strcmp(argv[i], "--dimension") == 0) d = static_cast<unsigned>(std::atol(argv[i + 1]));
    if (std::strcmp(argv[i], "--rounds") == 0) rounds = static_cast<unsigned>(std::atol(argv[i + 1]));
    if (std::strcmp(argv[i], "--compressor") == 0) compressor = argv[i + 1];
    if (std::strcmp(argv[i], "--logical") == 0) logical = static_cast<unsigned>(std::atol(argv[i + 1]));
  }
  using edgefl::wire::CompressorKind;
  const edgefl::codec::CompressorSpec spec{compressor == "sign" ? CompressorKind::Sign : CompressorKind::Identity};
  const size_t down = edgefl::codec::RoundStartBytes(d, 1);
  const size_t up = edgefl::codec::UpdateMessageBytes(spec, d, 0);
  const unsigned parts = (d + edgefl::codec::kRoundStartPartValues - 1) / edgefl::codec::kRoundStartPartValues;

  const std::string bin = std::filesystem::canonical("/proc/self/exe").parent_path().string();
  std::string dir = (std::filesystem::temp_directory_path() / "edgefl-round-bench-XXXXXX").string();
  if (mkdtemp(dir.data()) == nullptr) return 1;
  std::ofstream(dir + "/config.toml") << "[run]\nname = \"round\"\nnodes = " << nodes << "\nrounds = " << rounds
                                      << "\n[objective]\nkind = \"quadratic\"\ndimension = " << d
                                      << "\n[noise]\nkind = \"none\"\n[compressor]\nkind = \"" << compressor
                                      << "\"\n[step]\neta = 0.001\n[round]\ndeadline_ms = 600000\n";
  std::printf("%s rounds, N = %u, d = %u: %zu B down and %zu B up a node, %u rounds, on this machine\n",
              compressor.c_str(), nodes, d, down, up, rounds);
  const double raw = RawRoundSeconds(nodes, down, parts, up, rounds);
  const double processes = EdgeflRoundSeconds(bin, dir, "processes", "");
  const double packed = nodes % logical == 0 ? EdgeflRoundSeconds(bin, dir, "logical",
                                                                  "--logical " + std::to_string(logical))
                                             : 0.0;
  std::printf("%-34s %10s %8s\n", "", "s/round", "ratio");
  std::printf("%-34s %10.4f %8.2f\n", "raw ZeroMQ (ROUTER to N DEALERs)", raw, 1.0);
  std::printf("%-34s %10.4f %8.2f\n", "edgefl run, a process a node", processes, processes / raw);
  char label[64];
  std::snprintf(label, sizeof(label), "edgefl run --logical %u", logical);
  std::printf("%-34s %10.4f %8.2f\n", label, packed, packed / raw);
  edgefl::codec::TaskSpec task;
  task.objective.dimension = d;
  task.noise.kind = edgefl::wire::NoiseKind::None;
  task.compressor = spec;
  const double floor = edgefl::bench::NodeComputeSeconds(task, nodes) / 2.0;
  std::printf("%-34s %10.4f %8.2f\n", "the nodes' computation, 2 cores", floor, floor / raw);
  const double relayed = nodes % 2 == 0 ? EdgeflRoundSeconds(bin, dir, "relays", "--relays 2 --in-process") : 0.0;
  std::printf("%-34s %10.4f %8.2f\n", "--relays 2 --in-process (no node I/O)", relayed, relayed / raw);
  const bool ok = processes > 0.0 && (packed > 0.0 || nodes % logical != 0);
  if (ok) std::filesystem::remove_all(dir);
  return ok ? 0 : 1;
}
