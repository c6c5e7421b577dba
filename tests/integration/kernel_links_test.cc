// link.shaping = "kernel" end to end: `edgefl run` puts each node in a
// network namespace behind tbf qdiscs (sim/kernel_links.h), the rounds take
// the time sim/round_cost.h forecasts, the model is the unshaped run's, and
// nothing is left behind, even after a SIGTERM mid-run. Where namespaces
// cannot be made (not root, or in an unprivileged container, as
// `unshare --user` makes one), the run says why and falls back to the token
// bucket. The shaped cases need root; elsewhere they say so and pass.
#include <doctest/doctest.h>
#include <signal.h>
#include <unistd.h>

#include <cmath>
#include <filesystem>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "experiment/experiment_config.h"
#include "runfiles/run_recorder.h"
#include "sim/exec_tool.h"
#include "sim/kernel_links.h"
#include "sim/process_group.h"
#include "sim/round_cost.h"
#include "tests/integration/process_util.h"

namespace edgefl {
namespace {

using testing::Summary;
using testing::Binary;
using testing::Contains;
using testing::RunCommand;

// d = 20000 dense floats: an 80 kB update and an 80 kB round start, 0.65 s
// each at 1 Mb/s, against a few milliseconds of computation a round: the
// link sets the pace (the nodes add back tbf's head start, 12 ms a message,
// net/tbf_burst.h). 2 nodes, 4 rounds: 5 s.
const char* kConfig = R"(
[run]
name = "shaped"
nodes = 2
rounds = 4
seed = 5
[objective]
kind = "quadratic"
dimension = 20000
[compressor]
kind = "identity"
[step]
eta = 0.1
[link]
uplink_bps = 1000000
)";

// Empty when kernel links can be made here; else why not. Made once, with
// one node, and removed.
const std::string& KernelLinksUnavailable() {
  static const std::string reason = [] {
    Status s = KernelLinks::Probe();
    if (s.ok()) {
      KernelLinkSpec spec;
      spec.nodes = 1;
      spec.uplink = spec.downlink = TbfFor(1e6, 1000, 1 << 20);
      std::unique_ptr<KernelLinks> links;
      s = KernelLinks::Create(spec, &links);
      if (s.ok()) s = links->Teardown();
    }
    return s.ok() ? std::string() : std::string(s.message());
  }();
  return reason;
}

// Column 1 (time_s) of every row of a metrics.csv.
std::vector<double> RoundEndTimes(const std::string& path) {
  std::istringstream lines(testing::ReadFile(path));
  std::string line;
  std::vector<double> times;
  std::getline(lines, line);  // header
  while (std::getline(lines, line)) times.push_back(std::stod(line.substr(line.find(',') + 1)));
  return times;
}

// The cells of every line of a CSV file, its header first.
std::vector<std::vector<std::string>> CsvRows(const std::string& path) {
  std::vector<std::vector<std::string>> rows;
  std::istringstream lines(testing::ReadFile(path));
  std::string line;
  while (std::getline(lines, line)) {
    std::vector<std::string> cells;
    std::istringstream fields(line);
    std::string cell;
    while (std::getline(fields, cell, ',')) cells.push_back(cell);
    rows.push_back(cells);
  }
  return rows;
}

// Every namespace and interface `owner`'s edgefl run left behind.
std::vector<std::string> Leftovers(pid_t owner) {
  std::vector<std::string> left;
  std::string text;
  for (const std::vector<std::string>& list : {std::vector<std::string>{"ip", "netns", "list"},
                                              std::vector<std::string>{"ip", "-o", "link", "show"}}) {
    REQUIRE(RunTool(list, &text).ok());
    std::istringstream words(text);
    std::string word;
    while (words >> word) {
      if (!word.empty() && word.back() == ':') word.pop_back();
      pid_t found = 0;
      if (ParseOwner(word, &found) && found == owner) left.push_back(word);
    }
  }
  return left;
}

// The pid of the edgefl run that wrote kernel_links.csv, from its first
// namespace's name (efl<pid>n0).
pid_t OwnerOf(const std::string& links_csv) {
  const std::string text = testing::ReadFile(links_csv);
  const size_t at = text.find(",efl");
  REQUIRE(at != std::string::npos);
  pid_t owner = 0;
  REQUIRE(ParseOwner(text.substr(at + 1, text.find(',', at + 1) - at - 1), &owner));
  return owner;
}

TEST_CASE("kernel links: the rounds take the forecast time, the model is the unshaped run's, nothing is left") {
  if (!KernelLinksUnavailable().empty()) {
    MESSAGE("skipped: kernel links cannot be made here: " << KernelLinksUnavailable());
    return;
  }
  const std::string dir = testing::ScratchDir("kernel_links_run");
  testing::WriteFile(dir + "/config.toml", kConfig);
  const auto plain = RunCommand(Binary("edgefl") + " run " + dir + "/config.toml --out " + dir + "/plain");
  INFO(plain.output);
  REQUIRE(plain.exit_code == 0);
  const auto shaped =
      RunCommand(Binary("edgefl") + " run " + dir + "/config.toml --shaping kernel --out " + dir + "/kernel", 60);
  INFO(shaped.output);
  REQUIRE(shaped.exit_code == 0);
  CHECK(Contains(shaped.output, "tbf rate 1045581bit burst 1600b"));
  CHECK_FALSE(Contains(shaped.output, "falls back"));

  const std::string out = dir + "/kernel/shaped";
  CHECK(Contains(testing::ReadFile(out + "/config.toml"), "shaping = 'kernel'"));
  const RunSummary s = Summary(out + "/summary.toml");
  CHECK(s.ok);
  CHECK(s.steps == 4);
  CHECK(s.model_hash == Summary(dir + "/plain/shaped/summary.toml").model_hash);

  // Seconds a round, from round 1 on (round 0 also waits for the joins).
  std::vector<ExperimentConfig> configs;
  REQUIRE(LoadExperimentFile(out + "/config.toml", {}, &configs).ok());
  const double forecast = RoundCostOf(configs[0]).seconds;
  const std::vector<double> ends = RoundEndTimes(out + "/metrics.csv");
  REQUIRE(ends.size() == 4);
  const double measured = (ends.back() - ends.front()) / static_cast<double>(ends.size() - 1);
  MESSAGE("seconds a round: measured " << measured << ", forecast " << forecast);
  CHECK(measured == doctest::Approx(forecast).epsilon(0.10));

  // Every qdisc was read back, sent at least its messages (with their TCP
  // and Ethernet headers) and dropped nothing.
  const std::vector<std::vector<std::string>> rows = CsvRows(out + "/kernel_links.csv");
  REQUIRE(rows.size() == 5);
  CHECK(rows[0][0] == "node");
  for (size_t i = 1; i < rows.size(); ++i) {
    CAPTURE(i);
    REQUIRE(rows[i].size() == 17);
    CHECK(rows[i][9] == "1");  // counted
    const double sent = std::stod(rows[i][10]);
    CHECK(sent > static_cast<double>(rows[i][1] == "up" ? s.bytes_up : s.bytes_down) / 2.0);  // a node's share
    CHECK(rows[i][12] == "0");  // dropped
  }
  CHECK(Leftovers(OwnerOf(out + "/kernel_links.csv")).empty());
}

// Seconds a round of the variant whose folder is `out`, from round 1 on
// (round 0 also waits for the joins).
double SecondsARound(const std::string& out) {
  const std::vector<double> ends = RoundEndTimes(out + "/metrics.csv");
  REQUIRE(ends.size() >= 2);
  return (ends.back() - ends.front()) / static_cast<double>(ends.size() - 1);
}

TEST_CASE("kernel links: small messages take the token bucket's time and the forecast's, head starts added back") {
  if (!KernelLinksUnavailable().empty()) {
    MESSAGE("skipped: kernel links cannot be made here: " << KernelLinksUnavailable());
    return;
  }
  // 4 kB each way at 1 Mb/s, 20 ms each way: a 0.105 s round, of which tbf
  // would give away two head starts of 12.2 ms (a quarter) if the nodes did
  // not hold each message that much longer. 2 nodes, 16 rounds: 2 s a mode.
  const std::string dir = testing::ScratchDir("kernel_links_small");
  testing::WriteFile(dir + "/config.toml", kConfig);
  const std::string sets = " --rounds 16 --set objective.dimension=1000 --set link.latency_ms=20";
  const auto kernel = RunCommand(
      Binary("edgefl") + " run " + dir + "/config.toml" + sets + " --shaping kernel --out " + dir + "/kernel", 60);
  INFO(kernel.output);
  REQUIRE(kernel.exit_code == 0);
  CHECK_FALSE(Contains(kernel.output, "falls back"));
  const auto bucket = RunCommand(
      Binary("edgefl") + " run " + dir + "/config.toml" + sets + " --shaping token-bucket --out " + dir + "/bucket",
      60);
  INFO(bucket.output);
  REQUIRE(bucket.exit_code == 0);

  std::vector<ExperimentConfig> configs;
  REQUIRE(LoadExperimentFile(dir + "/kernel/shaped/config.toml", {}, &configs).ok());
  const double forecast = RoundCostOf(configs[0]).seconds;
  CHECK(forecast == doctest::Approx(0.04 + 8.0 * (4060 + 4112) / 1e6).epsilon(0.01));
  const double kernel_s = SecondsARound(dir + "/kernel/shaped");
  const double bucket_s = SecondsARound(dir + "/bucket/shaped");
  MESSAGE("seconds a round: kernel " << kernel_s << ", token bucket " << bucket_s << ", forecast " << forecast);
  CHECK(kernel_s == doctest::Approx(bucket_s).epsilon(0.10));
  CHECK(kernel_s == doctest::Approx(forecast).epsilon(0.10));
  CHECK(bucket_s == doctest::Approx(forecast).epsilon(0.10));
}

TEST_CASE("kernel links: SIGTERM mid-run stops the run and removes every namespace, veth and bridge") {
  if (!KernelLinksUnavailable().empty()) {
    MESSAGE("skipped: kernel links cannot be made here: " << KernelLinksUnavailable());
    return;
  }
  const std::string dir = testing::ScratchDir("kernel_links_sigterm");
  testing::WriteFile(dir + "/config.toml", kConfig);
  ProcessGroup group;
  size_t run = 0;
  REQUIRE(group
              .Spawn({Binary("edgefl"), "run", dir + "/config.toml", "--rounds", "1000", "--set",
                      "objective.dimension=2000", "--shaping", "kernel", "--out", dir + "/out"},
                     -1, &run)
              .ok());
  const pid_t owner = group.Pid(run);
  testing::WaitForRows(dir + "/out/shaped/metrics.csv", 2);
  CHECK_FALSE(Leftovers(owner).empty());  // the links are there while it runs
  group.Signal(run, SIGTERM);
  const ChildExit exit = testing::WaitFor(group, run);
  CHECK(exit.exit_code == 130);
  CHECK(Leftovers(owner).empty());
  CHECK(testing::Rows(dir + "/out/shaped/kernel_links.csv") == 4);  // counters read before teardown
}

TEST_CASE("kernel links: a run killed with SIGKILL leaves its namespaces, and the next one removes them") {
  if (!KernelLinksUnavailable().empty()) {
    MESSAGE("skipped: kernel links cannot be made here: " << KernelLinksUnavailable());
    return;
  }
  const std::string dir = testing::ScratchDir("kernel_links_sigkill");
  testing::WriteFile(dir + "/config.toml", kConfig);
  ProcessGroup group;
  size_t run = 0;
  REQUIRE(group
              .Spawn({Binary("edgefl"), "run", dir + "/config.toml", "--rounds", "1000", "--set",
                      "objective.dimension=2000", "--shaping", "kernel", "--out", dir + "/out"},
                     -1, &run)
              .ok());
  const pid_t owner = group.Pid(run);
  testing::WaitForRows(dir + "/out/shaped/metrics.csv", 1);
  group.Signal(run, SIGKILL);  // its children follow (PR_SET_PDEATHSIG); its links stay
  CHECK(testing::WaitFor(group, run).signal == SIGKILL);
  CHECK(Leftovers(owner).size() == 3);  // the coordinator's namespace and the two nodes'
  // What the next kernel-shaped run does first (its own pid is this one).
  CHECK(RemoveStaleKernelLinks(getpid()) >= 3);
  CHECK(Leftovers(owner).empty());
}

TEST_CASE("kernel links: where namespaces cannot be made, the run says why and falls back to the token bucket") {
  // An unprivileged container: root in a user namespace of its own, without
  // CAP_NET_ADMIN over the machine's network. Then a user who is not root.
  const auto probe = RunCommand("unshare --user --map-root-user true");
  if (probe.exit_code != 0) {
    MESSAGE("skipped: unshare --user is not available here: " << probe.output);
    return;
  }
  const std::string dir = testing::ScratchDir("kernel_links_fallback");
  testing::WriteFile(dir + "/config.toml", kConfig);
  const auto r = RunCommand("unshare --user --map-root-user " + Binary("edgefl") + " run " + dir +
                            "/config.toml --rounds 3 --shaping kernel --out " + dir + "/out");
  INFO(r.output);
  CHECK(r.exit_code == 0);
  CHECK(Contains(r.output, "link.shaping = kernel cannot be set up here: "));
  CHECK(Contains(r.output, "Operation not permitted"));
  CHECK(Contains(r.output, "falls back to link.shaping = token-bucket"));
  CHECK(Contains(testing::ReadFile(dir + "/out/shaped/config.toml"), "shaping = 'token-bucket'"));
  CHECK(Summary(dir + "/out/shaped/summary.toml").steps == 3);

  // Not root at all: said before anything is tried.
  if (geteuid() != 0 || RunCommand("setpriv --reuid=65534 --regid=65534 --clear-groups true").exit_code != 0) return;
  std::filesystem::create_directories(dir + "/nobody");
  std::filesystem::permissions(dir + "/nobody", std::filesystem::perms::all);
  const auto nobody = RunCommand("setpriv --reuid=65534 --regid=65534 --clear-groups " + Binary("edgefl") + " run " +
                                 dir + "/config.toml --rounds 3 --shaping kernel --out " + dir + "/nobody/out");
  INFO(nobody.output);
  CHECK(nobody.exit_code == 0);
  CHECK(Contains(nobody.output, "link.shaping = kernel cannot be set up here: not running as root"));
  CHECK(Contains(nobody.output, "falls back to link.shaping = token-bucket"));
}

}  // namespace
}  // namespace edgefl
