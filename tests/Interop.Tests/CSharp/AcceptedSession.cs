using MoqCluster.Protocol.Coding;

namespace MoqCluster.Interop.Tests.CSharp;

/// <summary>A session the <see cref="InProcessMoqServer"/> accepted.</summary>
/// <param name="Subprotocol">The selected WebSocket subprotocol (null when the client offered none).</param>
/// <param name="Version">The negotiated moq-lite version.</param>
internal sealed record AcceptedSession(string? Subprotocol, MoqVersion Version);
