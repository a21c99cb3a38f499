using MoqCluster.TestSupport;

namespace MoqCluster.Edge.Ops.Tests;

/// <summary>One edge process (HTTP, HTTPS and TCP listeners) shared by the endpoint tests of a class; tests use distinct broadcast paths.</summary>
public sealed class EdgeProcessFixture : IAsyncLifetime
{
    /// <summary>The shared edge.</summary>
    public EdgeProcess Edge { get; } = new(https: true, tcp: true);

    /// <inheritdoc />
    public Task InitializeAsync() => Edge.StartAsync();

    /// <inheritdoc />
    public async Task DisposeAsync() => await Edge.DisposeAsync();
}
