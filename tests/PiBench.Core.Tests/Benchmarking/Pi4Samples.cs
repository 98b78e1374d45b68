using Xunit;
namespace PiBench.Core.Tests.Benchmarking;

/// <summary>
/// Raspberry Pi 4 Model B (4 x Cortex-A72, aarch64, 4 GB, Raspberry Pi OS bookworm, kernel 6.6) readings, written
/// from the documented formats (proc(5), raspberrypi.com vcgencmd documentation). Two /proc/stat readings one
/// second apart: the deltas are chosen so the expected percentages are exact.
/// </summary>
internal static class Pi4Samples
{
    // cpu  user nice system idle iowait irq softirq steal guest guest_nice
    public const string Stat0 =
        "cpu  104822 12 40517 5893210 3211 0 2210 0 0 0\n" +
        "cpu0 26100 3 10120 1473020 801 0 1510 0 0 0\n" +
        "cpu1 26240 2 10133 1473305 812 0 233 0 0 0\n" +
        "cpu2 26212 4 10150 1473433 798 0 241 0 0 0\n" +
        "cpu3 26270 3 10114 1473452 800 0 226 0 0 0\n" +
        "intr 48151342 0 0 0 0 0 0 0 0 0 0 0 0 0\n" +
        "ctxt 89714377\nbtime 1733000000\nprocesses 81253\nprocs_running 2\nprocs_blocked 0\n" +
        "softirq 21043327 0 5129081 7 1232398 0 0 2170370 6413419 0 6098052\n";

    // One second later (USER_HZ 100 -> 400 jiffies over 4 cores):
    // cpu0: +50 user +25 system +25 idle  -> 75 % busy
    // cpu1: +10 user +90 idle             -> 10 % busy
    // cpu2: +100 idle                     ->  0 % busy
    // cpu3: +40 user +10 softirq +40 idle +10 iowait -> 50 % busy (iowait is idle time)
    // total: busy 50+25+10+40+10 = 135 of 400 -> 33.75 %
    public const string Stat1 =
        "cpu  104922 12 40542 5893465 3221 0 2220 0 0 0\n" +
        "cpu0 26150 3 10145 1473045 801 0 1510 0 0 0\n" +
        "cpu1 26250 2 10133 1473395 812 0 233 0 0 0\n" +
        "cpu2 26212 4 10150 1473533 798 0 241 0 0 0\n" +
        "cpu3 26310 3 10114 1473492 810 0 236 0 0 0\n" +
        "intr 48151542 0 0 0 0 0 0 0 0 0 0 0 0 0\n";

    public const string MemInfo =
        "MemTotal:        3884180 kB\n" +
        "MemFree:         1523420 kB\n" +
        "MemAvailable:    2904116 kB\n" +
        "Buffers:           72440 kB\n" +
        "Cached:          1265004 kB\n" +
        "SwapCached:            0 kB\n" +
        "Active:           963200 kB\n" +
        "SReclaimable:      60212 kB\n" +
        "SwapTotal:        102396 kB\n" +
        "SwapFree:         102396 kB\n" +
        "CmaTotal:         524288 kB\n";

    public const string NetDev0 =
        "Inter-|   Receive                                                |  Transmit\n" +
        " face |bytes    packets errs drop fifo frame compressed multicast|bytes    packets errs drop fifo colls carrier compressed\n" +
        "    lo: 8623412   61230    0    0    0     0          0         0  8623412   61230    0    0    0     0       0          0\n" +
        "  eth0: 981234567 1021345    0   12    0     0          0      3401 123456789  803211    0    0    0     0       0          0\n" +
        " wlan0:       0       0    0    0    0     0          0         0        0       0    0    0    0     0       0          0\n" +
        "docker0: 5000000   40000    0    0    0     0          0         0  6000000   41000    0    0    0     0       0          0\n" +
        "veth1a2b3c: 7000000 50000  0    0    0     0          0         0  8000000   52000    0    0    0     0       0          0\n";

    // eth0 +12,500,000 rx, +2,500,000 tx; lo and docker traffic grow too but must not count.
    public const string NetDev1 =
        "Inter-|   Receive                                                |  Transmit\n" +
        " face |bytes    packets errs drop fifo frame compressed multicast|bytes    packets errs drop fifo colls carrier compressed\n" +
        "    lo: 9623412   61930    0    0    0     0          0         0  9623412   61930    0    0    0     0       0          0\n" +
        "  eth0: 993734567 1031345    0   12    0     0          0      3401 125956789  805211    0    0    0     0       0          0\n" +
        " wlan0:       0       0    0    0    0     0          0         0        0       0    0    0    0     0       0          0\n" +
        "docker0: 9000000   40000    0    0    0     0          0         0  9900000   41000    0    0    0     0       0          0\n" +
        "veth1a2b3c: 9000000 50000  0    0    0     0          0         0  9000000   52000    0    0    0     0       0          0\n";

    public const string DiskStats0 =
        "   7       0 loop0 52 0 2166 21 0 0 0 0 0 48 21 0 0 0 0 0 0\n" +
        " 179       0 mmcblk0 20391 7523 1432518 12066 9124 10211 512344 40122 0 31552 53110 0 0 0 0 1893 922\n" +
        " 179       1 mmcblk0p1 312 1203 11216 193 2 0 2 1 0 160 194 0 0 0 0 0 0\n" +
        " 179       2 mmcblk0p2 20021 6320 1419254 11850 9122 10211 512342 40121 0 31400 51971 0 0 0 0 0 0\n" +
        "   8       0 sda 1000 0 80000 500 2000 0 160000 900 0 1000 1400 0 0 0 0 0 0\n" +
        "   8       1 sda1 1000 0 80000 500 2000 0 160000 900 0 1000 1400 0 0 0 0 0 0\n";

    // mmcblk0 +2048 sectors read, +4096 written; sda +0 / +1024.
    public const string DiskStats1 =
        "   7       0 loop0 52 0 2166 21 0 0 0 0 0 48 21 0 0 0 0 0 0\n" +
        " 179       0 mmcblk0 20400 7523 1434566 12066 9200 10211 516440 40122 0 31552 53110 0 0 0 0 1893 922\n" +
        " 179       1 mmcblk0p1 312 1203 11216 193 2 0 2 1 0 160 194 0 0 0 0 0 0\n" +
        " 179       2 mmcblk0p2 20030 6320 1421302 11850 9198 10211 516438 40121 0 31400 51971 0 0 0 0 0 0\n" +
        "   8       0 sda 1000 0 80000 500 2010 0 161024 900 0 1000 1400 0 0 0 0 0 0\n" +
        "   8       1 sda1 1000 0 80000 500 2010 0 161024 900 0 1000 1400 0 0 0 0 0 0\n";

    public const string LoadAvg = "1.52 0.98 0.61 3/412 23817\n";
    public const string Thermal = "52095\n";
    public const string MeasureTemp = "temp=52.1'C\n";
    public const string ThrottledNone = "throttled=0x0\n";
    public const string ThrottledUnderVoltage = "throttled=0x50005\n"; // under-voltage + throttled now and since boot
    public const string ThrottledPast = "throttled=0x80000\n"; // soft temperature limit occurred since boot only
    public const string Uptime0 = "58932.41 229102.77\n";
    public const string Uptime1 = "58933.41 229106.70\n";

    /// <summary>What the remote loop prints for one snapshot.</summary>
    public static IEnumerable<string> Snapshot(long seq, string stat, string net, string disk, string uptime, string? throttled, string? temp)
    {
        var text = $"@@PIBENCH-SNAPSHOT {seq} 1733058932\n@@uptime\n{uptime}@@stat\n{stat}@@meminfo\n{MemInfo}@@netdev\n{net}@@diskstats\n{disk}" +
                   $"@@loadavg\n{LoadAvg}@@thermal\n{Thermal}" +
                   (throttled is null ? "" : $"@@throttled\n{throttled}@@measure_temp\n{temp}") + "@@END\n";
        return text.Split('\n').SkipLast(1);
    }
}
