#include "coordinator/node_table.h"

#include <doctest/doctest.h>

namespace edgefl {
namespace {

TEST_CASE("routing ids name node ids, nothing else") {
  CHECK(NodeTable::IdOf("node-0") == 0);
  CHECK(NodeTable::IdOf("node-4095") == 4095);
  CHECK(NodeTable::IdOf("node-") == kNoNode);
  CHECK(NodeTable::IdOf("node-3x") == kNoNode);
  CHECK(NodeTable::IdOf("node--1") == kNoNode);
  // One spelling per id: an alias could speak for a joined node.
  CHECK(NodeTable::IdOf("node-03") == kNoNode);
  CHECK(NodeTable::IdOf("node-+3") == kNoNode);
  CHECK(NodeTable::IdOf("node-3 ") == kNoNode);
  CHECK(NodeTable::IdOf("intruder") == kNoNode);
  CHECK(NodeTable::IdOf("node-99999999999") == kNoNode);
}

TEST_CASE("a round counts joined live nodes; silence drops them") {
  NodeTable nodes(3);
  CHECK(nodes.MissingIds() == "0, 1, 2");
  for (uint32_t i : {0u, 2u}) {
    nodes[i].joined = nodes[i].alive = true;
    nodes[i].last_heard_ms = 1000;
  }
  CHECK(nodes.JoinedCount() == 2);
  CHECK(nodes.MissingIds() == "1");
  CHECK_FALSE(nodes.Joined(1));
  CHECK_FALSE(nodes.Joined(kNoNode));
  CHECK(nodes.BeginRound(7) == 2);
  CHECK(nodes[2].round.round == 7);
  CHECK(nodes[2].round.node == 2);
  CHECK(nodes.Outstanding() == 2);
  nodes[0].answered = true;
  CHECK(nodes.Outstanding() == 1);
  nodes.DropSilent(1400, 500);
  CHECK(nodes[2].alive);
  nodes[0].last_heard_ms = 1550;  // node 0 keeps talking, node 2 does not
  nodes.DropSilent(1600, 500);
  CHECK(nodes[0].alive);
  CHECK_FALSE(nodes[2].alive);
  CHECK(nodes.Outstanding() == 0);
  CHECK(nodes.BeginRound(8) == 1);
}

}  // namespace
}  // namespace edgefl
