// The order in which `berth migrate-store` puts manifests into the target:
// MetadataStore::PutManifest refuses an index whose children are not yet in
// the repository, so each manifest must come after every manifest of the same
// repository it references. A referrer's subject is not checked by
// PutManifest and imposes no order.
//
// Thread-safety: a pure function.
#pragma once

#include <cstddef>
#include <vector>

#include "storage/migrate/snapshot.hpp"

namespace berth::storage::migrate {

// Indexes into `manifests`, children before parents (stable: otherwise the
// input order). Manifests caught in a reference cycle (impossible with
// content addressing, but the rows are data, not proof) are left out and
// their indexes returned in `*cyclic`.
std::vector<size_t> OrderManifests(const std::vector<SnapshotManifest>& manifests,
                                   std::vector<size_t>* cyclic);

}  // namespace berth::storage::migrate
