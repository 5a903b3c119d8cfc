#!/usr/bin/perl
# gen-source.pl DIR MB: writes about MB megabytes of synthetic source-like files
# under DIR (C, Python and JavaScript lookalikes drawn at random from a small
# vocabulary), reproducibly (seeded). Random draws make it compress worse than
# real code: the benchmark reports it beside a corpus of real sources.
use strict;
use warnings;

my ($dir, $mb) = @ARGV;
die "usage: gen-source.pl DIR MB\n" unless defined $mb;
srand(42);
my @words = qw(buffer count index result value node list entry table config
	state error handle stream record token parser writer reader cache lock
	size length offset path name item worker pool queue event timer request
	response status context options flags mode data key hash next prev);
my @types = qw(int size_t char long double void uint32_t bool);
my @kw = ("if", "while", "for", "return", "switch");
my ($total, $n) = (0, 0);
my $limit = $mb * 1024 * 1024;
sub w { $words[int(rand(@words))] }
sub line {
	my $in = "\t" x shift;
	my $r = rand();
	return "$in/* " . join(" ", map { w() } 1 .. 4 + int(rand(8))) . " */\n" if $r < 0.12;
	return "$in" . $kw[int(rand(@kw))] . " (" . w() . "_" . w() . " " .
		("<", ">", "==", "!=")[int(rand(4))] . " " . int(rand(1000)) . ") {\n" if $r < 0.3;
	return "$in" . $types[int(rand(@types))] . " " . w() . "_" . w() . " = " .
		w() . "(" . w() . ", " . int(rand(65536)) . ");\n" if $r < 0.6;
	return "$in" . w() . "->" . w() . " = " . w() . "_" . w() . "[" . w() . "];\n" if $r < 0.85;
	return "$in}\n";
}
while ($total < $limit) {
	my $sub = sprintf("%s/src/mod%02d", $dir, $n % 40);
	system("mkdir", "-p", $sub) unless -d $sub;
	my $f = sprintf("%s/%s_%s_%04d%s", $sub, w(), w(), $n, (".c", ".h", ".py", ".js")[$n % 4]);
	my $size = 2000 + int(rand(60000));
	open(my $fh, ">", $f) or die "$f: $!\n";
	my $s = 0;
	while ($s < $size) {
		my $l = line(1 + int(rand(3)));
		print $fh $l;
		$s += length($l);
	}
	close($fh);
	$total += $s;
	$n++;
}
