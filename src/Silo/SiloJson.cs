using System.Text.Json.Serialization;

namespace MoqCluster.Silo;

/// <summary>Serializers for the values the silo stores (camelCase JSON, readable with etcdctl).</summary>
[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase)]
[JsonSerializable(typeof(NodeInfo))]
[JsonSerializable(typeof(BroadcastEntry))]
internal sealed partial class SiloJson : JsonSerializerContext
{
}
