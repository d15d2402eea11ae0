# gnuplot w4_load80_p1.gp (from /work/main/results/) redraws w4_load80_p1.png from w4_load80_p1.data
set terminal pngcairo size 900,520 font ',11'
set output 'w4_load80_p1.png'
set title 'Slowdown, w4, 4 hosts, 100 Mbit/s, load 80%, 1 priority queue(s)'
set logscale y
set grid ytics mytics xtics
set xlabel 'cumulative fraction of messages, 0 to 1 (ticks: largest length of each 10% bucket)'
set ylabel 'slowdown (RTT / unloaded RTT)'
set xrange [0:1]
set key top left
set xtics rotate by -45 font ',9' ("315 B" 0.1027, "376 B" 0.2051, "502 B" 0.3020, "574 B" 0.4216, "654 B" 0.5022, "945 B" 0.6033, "6653 B" 0.7019, "49813 B" 0.8003, "123857 B" 0.9012, "1000000 B" 1.0000)
plot 'w4_load80_p1.data' using 2:4 with linespoints lw 2 pt 7 lc rgb '#d62728' dt 2 title 'homa P50', \
     'w4_load80_p1.data' using 2:5 with linespoints lw 2 pt 5 lc rgb '#d62728' title 'homa P99', \
     'w4_load80_p1.data' using 2:9 with linespoints lw 2 pt 7 lc rgb '#1f77b4' dt 2 title 'tcp P50', \
     'w4_load80_p1.data' using 2:10 with linespoints lw 2 pt 5 lc rgb '#1f77b4' title 'tcp P99'
