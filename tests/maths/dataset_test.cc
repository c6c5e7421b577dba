#include "maths/dataset.h"

#include <doctest/doctest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <set>

namespace edgefl {
namespace {

codec::ObjectiveSpec DataSpec(wire::PartitionKind partition, double alpha = 0.5) {
  codec::ObjectiveSpec spec;
  spec.kind = wire::ObjectiveKind::Logistic;
  std::snprintf(spec.dataset, sizeof(spec.dataset), "digits");
  spec.partition = partition;
  spec.dirichlet_alpha = alpha;
  spec.test_fraction = 0.2;
  return spec;
}

std::vector<uint8_t> Labels(size_t n, uint32_t classes) {
  std::vector<uint8_t> labels(n);
  for (size_t i = 0; i < n; ++i) labels[i] = static_cast<uint8_t>(i % classes);
  return labels;
}

TEST_CASE("a partition covers every sample once, and is the same every time") {
  const auto labels = Labels(1000, 10);
  for (auto kind : {wire::PartitionKind::Iid, wire::PartitionKind::Dirichlet}) {
    const Partition a = MakePartition(DataSpec(kind), labels, 10, 42, 7);
    const Partition b = MakePartition(DataSpec(kind), labels, 10, 42, 7);
    CHECK(a.test == b.test);
    CHECK(a.shards == b.shards);
    CHECK(a.test.size() == 200);
    std::set<uint32_t> seen(a.test.begin(), a.test.end());
    size_t total = a.test.size();
    for (const auto& shard : a.shards) {
      CHECK_FALSE(shard.empty());
      total += shard.size();
      seen.insert(shard.begin(), shard.end());
    }
    CHECK(total == 1000);
    CHECK(seen.size() == 1000);
    CHECK(MakePartition(DataSpec(kind), labels, 10, 43, 7).test != a.test);
  }
}

TEST_CASE("IID shards are balanced; Dirichlet shards are skewed by class") {
  const auto labels = Labels(5000, 10);
  const Partition iid = MakePartition(DataSpec(wire::PartitionKind::Iid), labels, 10, 1, 8);
  for (const auto& shard : iid.shards) CHECK(shard.size() >= 4000 / 8 - 1);
  // Skew: the largest share a node has of one class, averaged over nodes.
  const auto skew = [&](const Partition& p) {
    double sum = 0;
    for (const auto& shard : p.shards) {
      std::vector<size_t> counts(10, 0);
      for (uint32_t s : shard) ++counts[labels[s]];
      sum += static_cast<double>(*std::max_element(counts.begin(), counts.end())) / static_cast<double>(shard.size());
    }
    return sum / static_cast<double>(p.shards.size());
  };
  CHECK(skew(iid) < 0.2);
  CHECK(skew(MakePartition(DataSpec(wire::PartitionKind::Dirichlet, 0.1), labels, 10, 1, 8)) > 0.5);
}

TEST_CASE("the digits data set loads with every row checked") {
  Dataset data;
  const Status s = LoadDataset("digits", "", &data);
  REQUIRE_MESSAGE(s.ok(), s.message());
  CHECK(data.labels.size() == 1797);
  CHECK(data.features.size() == 1797 * 64);
  CHECK(*std::max_element(data.features.begin(), data.features.end()) == 1.0f);
  CHECK(*std::max_element(data.labels.begin(), data.labels.end()) == 9);
}

TEST_CASE("a broken data file is refused with the line that is wrong") {
  const std::string dir = std::filesystem::temp_directory_path() / "edgefl-dataset-test";
  std::filesystem::create_directories(dir);
  std::string valid;
  for (int i = 0; i < 64; ++i) valid += "0,";
  std::ofstream(dir + "/digits.csv") << valid << "3\n" << "1,2,three\n";
  Dataset data;
  const Status s = LoadDataset("digits", dir, &data);
  CHECK_FALSE(s.ok());
  CHECK(std::string(s.message()).find("line 2") != std::string::npos);
  CHECK_FALSE(LoadDataset("mnist", dir, &data).ok());
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace edgefl
