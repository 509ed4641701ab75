#include "http/admission.hpp"

#include <vector>

namespace berth::http {

Admit Admission::Enter(const std::string& address, const std::shared_ptr<Connection>& conn,
                       uint64_t* id) {
  MutexLock lock(mu_);
  size_t& mine = by_address_[address];
  Admit how = Admit::kServe;
  const bool over = mine >= limits_.per_address && !limits_.proxies.Contains(address);
  if (over) {
    how = Admit::kRefuse;
  } else if (normal_ >= limits_.total) {
    how = health_ < limits_.health_reserve ? Admit::kHealthOnly : Admit::kRefuse;
  }
  if (how == Admit::kRefuse) {
    ++(over ? counts_.refused_per_address : counts_.refused_full);
    if (mine == 0) by_address_.erase(address);
    return how;
  }
  ++(how == Admit::kServe ? counts_.accepted : counts_.health_only);
  ++mine;
  ++(how == Admit::kServe ? normal_ : health_);
  *id = ++next_id_;
  conns_.emplace(*id, conn);
  return how;
}

void Admission::Leave(const std::string& address, Admit how, uint64_t id) {
  MutexLock lock(mu_);
  if (how == Admit::kRefuse) return;
  conns_.erase(id);
  --(how == Admit::kServe ? normal_ : health_);
  auto it = by_address_.find(address);
  if (it != by_address_.end() && --it->second == 0) by_address_.erase(it);
}

size_t Admission::Active() const {
  MutexLock lock(mu_);
  return normal_ + health_;
}

AdmissionStats Admission::Stats() const {
  MutexLock lock(mu_);
  AdmissionStats s = counts_;
  s.open = normal_ + health_;
  return s;
}

void Admission::CloseIdle() { ForEach(true); }
void Admission::CloseAll() { ForEach(false); }

void Admission::ForEach(bool idle_only) {
  // Called outside the lock: a close may end a connection, whose Leave
  // takes the lock.
  std::vector<std::shared_ptr<Connection>> targets;
  {
    MutexLock lock(mu_);
    for (auto& [id, weak] : conns_) {
      auto c = weak.lock();
      if (c && (!idle_only || c->idle.load())) targets.push_back(std::move(c));
    }
  }
  for (auto& c : targets) {
    if (c->close) c->close();
  }
}

}  // namespace berth::http
