#include "postwire/connectors/connector.hpp"

namespace postwire {

bool SourceSpec::operator==(const SourceSpec& other) const {
  // YAML::Node has identity semantics; compare the options by their text form.
  auto dump = [](const YAML::Node& node) { return node ? YAML::Dump(node) : std::string(); };
  return id == other.id && type == other.type && url == other.url && interval == other.interval &&
         timeout == other.timeout && max_document_bytes == other.max_document_bytes &&
         timezone == other.timezone && language == other.language && state_ttl == other.state_ttl &&
         drop_cross_source == other.drop_cross_source && dump(options) == dump(other.options);
}

void ConnectorRegistry::add(ConnectorFactory factory) {
  auto type = factory.type;
  factories_.insert_or_assign(std::move(type), std::move(factory));
}

const ConnectorFactory* ConnectorRegistry::find(const std::string& type) const {
  auto it = factories_.find(type);
  return it == factories_.end() ? nullptr : &it->second;
}

std::vector<std::string> ConnectorRegistry::types() const {
  std::vector<std::string> out;
  out.reserve(factories_.size());
  for (const auto& [type, factory] : factories_) out.push_back(type);
  return out;
}

}  // namespace postwire
