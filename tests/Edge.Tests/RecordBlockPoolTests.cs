using System.Net.Http;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Connections.Features;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using MoqCluster.Edge.Listeners;
using MoqCluster.TestSupport;

namespace MoqCluster.Edge.Tests;

public class RecordBlockPoolTests
{
    [Fact]
    public void A_returned_block_is_rented_again_and_a_second_dispose_returns_it_only_once()
    {
        using var pool = new RecordBlockPool();
        var first = pool.Rent(100);
        Assert.Equal(RecordBlockPool.BlockSize, first.Memory.Length);
        first.Dispose();
        first.Dispose();
        Assert.Equal(1, pool.Retained);

        var again = pool.Rent();
        var other = pool.Rent();
        Assert.Same(first, again);
        Assert.NotSame(again, other);
        Assert.Equal(0, pool.Retained);
    }

    [Fact]
    public void At_most_MaxRetained_free_blocks_are_kept()
    {
        using var pool = new RecordBlockPool();
        var blocks = Enumerable.Range(0, RecordBlockPool.MaxRetained + 10).Select(_ => pool.Rent()).ToList();
        foreach (var block in blocks)
            block.Dispose();
        Assert.Equal(RecordBlockPool.MaxRetained, pool.Retained);
    }

    [Fact]
    public void A_request_above_the_block_size_gets_an_unpooled_buffer_of_that_size()
    {
        using var pool = new RecordBlockPool();
        var big = pool.Rent(RecordBlockPool.BlockSize + 1);
        Assert.Equal(RecordBlockPool.BlockSize + 1, big.Memory.Length);
        big.Dispose();
        Assert.Equal(0, pool.Retained);
    }

    [Fact]
    public async Task Kestrel_connections_use_the_pool_once_it_is_registered()
    {
        // The WebSocket channel composes records in place only when the connection's pool block holds a whole
        // record window; it learns the block size from this feature.
        var port = FreePort.Get();
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls($"http://127.0.0.1:{port}");
        RecordBlockPool.UseForKestrel(builder.Services);
        await using var app = builder.Build();
        app.MapGet("/block", (HttpContext context) => context.Features.Get<IMemoryPoolFeature>()?.MemoryPool.MaxBufferSize ?? -1);
        await app.StartAsync();
        using var http = new HttpClient();
        Assert.Equal($"{RecordBlockPool.BlockSize}", await http.GetStringAsync($"http://127.0.0.1:{port}/block"));
        await app.StopAsync();
    }
}
