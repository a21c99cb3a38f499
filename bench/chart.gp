# Throughput and p99 latency per workload, from the data file written by `MoqCluster.Bench.Load report`.
# Usage: gnuplot -e "dat='chart.dat'; out='latest.png'" bench/chart.gp
if (strstrt(GPVAL_TERMINALS, "pngcairo") > 0) {
    set terminal pngcairo size 1600,1000 font "sans,10"
} else {
    set terminal png size 1600,1000
}
set output out
set multiplot layout 2,1 title "MoqCluster load benchmark (loopback, server on core 0, generator on core 1)"
set style data histograms
set style histogram clustered gap 1
set style fill solid 0.85 border -1
set boxwidth 0.9
set key outside right top
set grid ytics
set logscale y
set xtics rotate by -25 scale 0 font ",9"
set bmargin 6

set ylabel "delivered Gbit/s (log)"
set yrange [0.01:*]
plot dat using 2:xtic(1) title "moq relay, WebSocket", '' using 7 title "moq relay, TCP", '' using 3 title "nats-server", '' using 4 title "loopback TCP (iperf3, ceiling)"

set ylabel "p99 latency ms (log)"
set yrange [0.05:*]
plot dat using 5:xtic(1) title "moq relay, WebSocket", '' using 8 title "moq relay, TCP", '' using 6 title "nats-server"
unset multiplot
