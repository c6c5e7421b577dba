// Open MPI and Slurm as pure launchers (edgefl run --launcher mpirun |
// srun): the nodes are the launcher's ranks, take their ids from them, never
// call MPI_Init, and give the model a run of separate processes gives; a
// node that fails and ends under --exit-policy zero does not bring the job
// down; across three hosts made of network namespaces each node connects
// from its own host's address, and the model is the single-host one; and
// srun, on a Slurm of one machine, gives the same model.
#include <doctest/doctest.h>
#include <unistd.h>

#include <filesystem>
#include <string>

#include "runfiles/run_recorder.h"
#include "sim/process_group.h"
#include "tests/integration/process_util.h"

namespace edgefl {
namespace {

using testing::Binary;
using testing::Contains;
using testing::RunCommand;
using testing::Summary;

// Two boards, so mpirun gets two app contexts (their memory budgets differ).
const char* kConfig = R"(
[run]
name = "launched"
nodes = 6
rounds = 30
seed = 4
[objective]
dimension = 200
[compressor]
kind = "qsgd"
levels = 4
[[profile]]
name = "zero2"
nodes = 2
board = "pi-zero-2"
[[profile]]
name = "pi5"
nodes = 4
board = "pi-5"
)";

TEST_CASE("edgefl run --launcher mpirun: ranks as nodes, the same model as separate processes") {
  const std::string dir = testing::ScratchDir("launcher_mpirun");
  testing::WriteFile(dir + "/config.toml", kConfig);
  auto r = RunCommand(Binary("edgefl") + " run " + dir + "/config.toml --out " + dir + "/processes");
  INFO(r.output);
  REQUIRE(r.exit_code == 0);
  r = RunCommand(Binary("edgefl") + " run " + dir + "/config.toml --launcher mpirun --verbose-nodes --out " + dir +
                 "/mpirun");
  INFO(r.output);
  REQUIRE(r.exit_code == 0);
  CHECK(Contains(r.output, "node id 5 from OMPI_COMM_WORLD_RANK, on host"));
  const RunSummary processes = Summary(dir + "/processes/launched/summary.toml");
  const RunSummary mpirun = Summary(dir + "/mpirun/launched/summary.toml");
  CHECK(mpirun.ok);
  CHECK(mpirun.rounds == 30);
  CHECK(mpirun.update_messages == 6 * 30);
  CHECK(mpirun.model_hash == processes.model_hash);
}

TEST_CASE("edgefl run --logical 2: three processes of two nodes, by hand and as mpirun's ranks, the same model") {
  const std::string dir = testing::ScratchDir("launcher_logical");
  testing::WriteFile(dir + "/config.toml", kConfig);
  const auto run = [&](const std::string& name, const std::string& flags) {
    const auto r = RunCommand(Binary("edgefl") + " run " + dir + "/config.toml " + flags + " --out " + dir + "/" + name);
    INFO(r.output);
    REQUIRE(r.exit_code == 0);
    return r.output;
  };
  run("processes", "");
  const std::string by_hand = run("logical", "--logical 2 --verbose-nodes");
  CHECK(Contains(by_hand, "2 logical nodes, ids 4..5 (id 2 from --id, times 2)"));
  CHECK(Contains(by_hand, "edgefl-node 5: "));  // each logical node's lines carry its id
  const std::string ranks = run("mpirun", "--logical 2 --launcher mpirun --verbose-nodes");
  CHECK(Contains(ranks, "ids 4..5 (id 2 from OMPI_COMM_WORLD_RANK, times 2)"));
  const RunSummary processes = Summary(dir + "/processes/launched/summary.toml");
  for (const char* name : {"logical", "mpirun"}) {
    CAPTURE(std::string(name));
    const RunSummary logical = Summary(dir + "/" + name + "/launched/summary.toml");
    CHECK(logical.ok);
    CHECK(logical.update_messages == 6 * 30);
    CHECK(logical.model_hash == processes.model_hash);
  }
  // Nodes that cannot share processes evenly, or whose arguments differ, are refused.
  auto r = RunCommand(Binary("edgefl") + " run " + dir + "/config.toml --logical 4 --out " + dir + "/uneven");
  CHECK(r.exit_code != 0);
  CHECK(Contains(r.output, "--logical 4: run.nodes must be a multiple of it"));
  r = RunCommand(Binary("edgefl") + " run " + dir + "/config.toml --logical 3 --out " + dir + "/mixed");
  CHECK(r.exit_code != 0);
  CHECK(Contains(r.output, "--logical 3: nodes 0 and 2 would share a process but differ in their arguments"));
}

TEST_CASE("a node that fails exits 0 under --exit-policy zero, so mpirun keeps the rest of the job running") {
  // The Zero 2s' budget is too small for the task: they are refused and end;
  // the four Pi 5s carry the run (quorum 0.5), and mpirun does not end them.
  const std::string dir = testing::ScratchDir("launcher_exit_policy");
  std::string config = kConfig;
  config.replace(config.find("board = \"pi-zero-2\""), 19, "board = \"pi-zero-2\"\nmemory_budget = 2000");
  testing::WriteFile(dir + "/config.toml", config);
  const auto r = RunCommand(Binary("edgefl") + " run " + dir + "/config.toml --launcher mpirun --out " + dir + "/out");
  INFO(r.output);
  CHECK(r.exit_code == 0);
  CHECK(Contains(r.output, "memory budget of 2000 bytes is too small"));
  const RunSummary summary = Summary(dir + "/out/launched/summary.toml");
  CHECK(summary.ok);
  CHECK(summary.rounds == 30);
  CHECK(summary.update_messages == 4 * 30);

  // The same failure, by hand: 1 under the default policy, 0 under zero.
  for (const auto& [policy, code] : {std::pair{"", 1}, std::pair{" --exit-policy zero", 0}}) {
    const auto node = RunCommand(Binary("edgefl-node") + " --connect tcp://127.0.0.1:9 --id 0 --join-timeout-ms 300" +
                                     policy,
                                 20);
    INFO(node.output);
    CHECK(node.exit_code == code);
    CHECK(Contains(node.output, "error"));
  }
}

// Three hosts made of network namespaces on a bridge (10.79.0.0/24; the
// machine is 10.79.0.1), which mpirun reaches through `ip netns exec`
// standing in for ssh. Made at construction, removed at destruction.
class FakeHosts {
 public:
  explicit FakeHosts(const std::string& dir) : dir_(dir) {
    testing::WriteFile(dir + "/netns-rsh",
                       "#!/bin/sh\n"
                       "while [ \"${1#-}\" != \"$1\" ]; do shift; done  # ssh's options\n"
                       "host=\"$1\"; shift\n"
                       "exec ip netns exec \"$host\" unshare --uts sh -c \"hostname $host; $*\"\n");
    testing::WriteFile(dir + "/hosts", "eflmpi1 slots=2\neflmpi2 slots=2\neflmpi3 slots=2\n");
    Remove();
    const auto made = RunCommand(
        "chmod +x " + dir + "/netns-rsh && ip link add eflmpibr0 type bridge && "
        "ip addr add 10.79.0.1/24 dev eflmpibr0 && ip link set eflmpibr0 up && "
        "for i in 1 2 3; do h=eflmpi$i; ip netns add $h && "
        "ip link add veth-$h type veth peer name eth0 netns $h && ip link set veth-$h master eflmpibr0 up && "
        "ip -n $h addr add 10.79.0.1$i/24 dev eth0 && ip -n $h link set eth0 up && ip -n $h link set lo up && "
        "ip -n $h route add default via 10.79.0.1 || exit 1; done");
    made_ = made.exit_code == 0;
    why_ = made.output;
  }
  ~FakeHosts() { Remove(); }
  bool made() const { return made_; }
  const std::string& why() const { return why_; }

 private:
  static void Remove() {
    RunCommand("for i in 1 2 3; do ip netns del eflmpi$i 2>/dev/null; done; ip link del eflmpibr0 2>/dev/null; true");
  }
  std::string dir_;
  bool made_ = false;
  std::string why_;
};

TEST_CASE("mpirun across three hosts (network namespaces): each node from its own address, the single-host model") {
  const std::string dir = testing::ScratchDir("launcher_three_hosts");
  testing::WriteFile(dir + "/config.toml", kConfig);
  FakeHosts hosts(dir);
  if (!hosts.made()) {
    MESSAGE("skipped: network namespaces cannot be made here (root and iproute2 needed): " << hosts.why());
    return;
  }
  auto r = RunCommand(Binary("edgefl") + " run " + dir + "/config.toml --out " + dir + "/one-host");
  INFO(r.output);
  REQUIRE(r.exit_code == 0);
  // edgefl run across the three hosts, mpirun reaching them through the stand-in for ssh.
  const auto across_hosts = [&](const std::string& flags, const std::string& out) {
    return RunCommand(Binary("edgefl") + " run " + dir + "/config.toml " + flags + " --launcher mpirun --hostfile " +
                      dir + "/hosts --bind 'tcp://10.79.0.1:*' --insecure --verbose-nodes --launcher-arg=--mca "
                      "--launcher-arg=plm_rsh_agent --launcher-arg=" + dir + "/netns-rsh --launcher-arg=--mca "
                      "--launcher-arg=oob_tcp_if_include --launcher-arg=10.79.0.0/24 --out " + dir + "/" + out);
  };
  r = across_hosts("", "three-hosts");
  INFO(r.output);
  REQUIRE(r.exit_code == 0);
  // Two ranks a host, in host order, each connecting from its host's address.
  for (const char* line : {"node id 0 from OMPI_COMM_WORLD_RANK, on host eflmpi1",
                           "node id 3 from OMPI_COMM_WORLD_RANK, on host eflmpi2",
                           "node id 5 from OMPI_COMM_WORLD_RANK, on host eflmpi3",
                           "nodes connected from 10.79.0.11 (2), 10.79.0.12 (2), 10.79.0.13 (2)"}) {
    CHECK_MESSAGE(Contains(r.output, line), line);
  }
  const RunSummary one = Summary(dir + "/one-host/launched/summary.toml");
  const RunSummary three = Summary(dir + "/three-hosts/launched/summary.toml");
  CHECK(three.ok);
  CHECK(three.update_messages == 6 * 30);
  CHECK(three.model_hash == one.model_hash);

  // A relay a host (--map-by ppr:1:node): each host's two nodes send their
  // updates to their host's relay over its loopback, and only the relays
  // reach the root, one partial each a round.
  r = across_hosts("--relays 3", "relayed");
  INFO(r.output);
  REQUIRE(r.exit_code == 0);
  for (const char* line : {"relay group 0 from OMPI_COMM_WORLD_RANK", "relay group 2 from OMPI_COMM_WORLD_RANK",
                           "node id 5 from OMPI_COMM_WORLD_RANK, on host eflmpi3",
                           "relays connected from 10.79.0.11 (1), 10.79.0.12 (1), 10.79.0.13 (1)"}) {
    CHECK_MESSAGE(Contains(r.output, line), line);
  }
  const RunSummary relayed = Summary(dir + "/relayed/launched/summary.toml");
  CHECK(relayed.ok);
  CHECK(relayed.update_messages == 3 * 30);  // a partial a relay a round
  CHECK(relayed.model_hash == one.model_hash);
  for (int g = 0; g < 3; ++g) {
    const RunSummary relay = Summary(dir + "/relayed/launched/relay-" + std::to_string(g) + "/summary.toml");
    CHECK(relay.update_messages == 2 * 30);
  }
}

// A Slurm of one machine: slurmctld and one slurmd on 127.0.0.1, no munge
// (auth/none), its state in `dir`; stopped with `group`. made() once its
// node is idle.
class OneHostSlurm {
 public:
  OneHostSlurm(ProcessGroup& group, const std::string& dir) : conf_(dir + "/slurm.conf") {
    std::filesystem::create_directories(dir + "/state");
    std::filesystem::create_directories(dir + "/spool");
    testing::WriteFile(conf_, "ClusterName=edgefl\nSlurmctldHost=localhost(127.0.0.1)\nSlurmctldPort=6917\n"
                              "SlurmdPort=6918\nAuthType=auth/none\nCredType=cred/none\n"
                              "ProctrackType=proctrack/linuxproc\nTaskPlugin=task/none\nSchedulerType=sched/builtin\n"
                              "SelectType=select/cons_tres\nSelectTypeParameters=CR_Core\nStateSaveLocation=" +
                                  dir + "/state\nSlurmdSpoolDir=" + dir + "/spool\nSlurmctldPidFile=" + dir +
                                  "/slurmctld.pid\nSlurmdPidFile=" + dir +
                                  "/slurmd.pid\nSlurmUser=root\nSlurmdUser=root\nReturnToService=2\nMpiDefault=none\n"
                                  "JobCompType=jobcomp/none\nAccountingStorageType=accounting_storage/none\n"
                                  "SlurmdParameters=config_overrides\n"
                                  "NodeName=localhost NodeAddr=127.0.0.1 CPUs=16 State=UNKNOWN\n"
                                  "PartitionName=debug Nodes=localhost Default=YES MaxTime=INFINITE State=UP\n");
    size_t index = 0;
    if (!group.Spawn({"/usr/sbin/slurmctld", "-D", "-f", conf_}, -1, &index).ok() ||
        !group.Spawn({"/usr/sbin/slurmd", "-D", "-f", conf_}, -1, &index).ok()) {
      return;
    }
    for (int tries = 0; tries < 100 && !made_; ++tries) {
      const auto info = RunCommand("SLURM_CONF=" + conf_ + " sinfo -h -o %T 2>&1", 5);
      made_ = info.output.find("idle") != std::string::npos;
      why_ = info.output;
      if (!made_) usleep(100 * 1000);
    }
  }
  bool made() const { return made_; }
  const std::string& why() const { return why_; }
  const std::string& conf() const { return conf_; }

 private:
  std::string conf_;
  bool made_ = false;
  std::string why_;
};

TEST_CASE("edgefl run --launcher srun: Slurm's tasks as nodes, ids from SLURM_PROCID, the same model") {
  const std::string dir = testing::ScratchDir("launcher_srun");
  testing::WriteFile(dir + "/config.toml", kConfig);
  ProcessGroup daemons;
  OneHostSlurm slurm(daemons, dir);
  if (!slurm.made()) {
    daemons.Stop(2000);
    MESSAGE("skipped: a one-host Slurm cannot start here (root and the slurmctld, slurmd packages needed): "
            << slurm.why());
    return;
  }
  auto r = RunCommand(Binary("edgefl") + " run " + dir + "/config.toml --out " + dir + "/processes");
  INFO(r.output);
  REQUIRE(r.exit_code == 0);
  r = RunCommand("SLURM_CONF=" + slurm.conf() + " " + Binary("edgefl") + " run " + dir +
                 "/config.toml --launcher srun --verbose-nodes --out " + dir + "/srun");
  INFO(r.output);
  REQUIRE(r.exit_code == 0);
  CHECK(Contains(r.output, "node id 5 from SLURM_PROCID"));
  // The two boards' budgets differ: one --multi-prog line each.
  CHECK(testing::ReadFile(dir + "/srun/launched/srun.conf").find("0-1 ") == 0);
  const RunSummary processes = Summary(dir + "/processes/launched/summary.toml");
  const RunSummary srun = Summary(dir + "/srun/launched/summary.toml");
  CHECK(srun.ok);
  CHECK(srun.update_messages == 6 * 30);
  CHECK(srun.model_hash == processes.model_hash);
  // Relays as Slurm tasks too: each takes its group from SLURM_PROCID.
  r = RunCommand("SLURM_CONF=" + slurm.conf() + " " + Binary("edgefl") + " run " + dir +
                 "/config.toml --launcher srun --relays 3 --out " + dir + "/srun-relays");
  INFO(r.output);
  REQUIRE(r.exit_code == 0);
  CHECK(Contains(r.output, "relay group 2 from SLURM_PROCID"));
  const RunSummary relayed = Summary(dir + "/srun-relays/launched/summary.toml");
  CHECK(relayed.update_messages == 3 * 30);
  CHECK(relayed.model_hash == processes.model_hash);
  daemons.Stop(2000);
}

}  // namespace
}  // namespace edgefl
