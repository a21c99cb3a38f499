// The tests start whole clusters (3 etcd members, 3 edges, npm clients) and kill parts of them: on a shared
// 2-core runner they run one at a time.
[assembly: CollectionBehavior(DisableTestParallelization = true)]
