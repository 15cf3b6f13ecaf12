%% The Erlang anchor of `npm run bench` (bench/cases/spawn.ts compiles it with erlc into a
%% temporary folder). spawn_bench:main(["seq" | "batch", N]) prints the µs per process
%% over N spawn_monitor -> 'DOWN', then the VM's peak RSS above its idle RSS in KiB.
%% seq: one process at a time. batch: 1 000 spawned and monitored, then 1 000 'DOWN's.
-module(spawn_bench).
-export([main/1]).

-define(BATCH, 1000).

main([Mode, NArg]) ->
    N = list_to_integer(NArg),
    Idle = status_kib("VmRSS"),
    run(Mode, 10000), % warm-up
    T0 = erlang:monotonic_time(nanosecond),
    run(Mode, N),
    T1 = erlang:monotonic_time(nanosecond),
    io:format("~f ~w~n", [(T1 - T0) / N / 1000, status_kib("VmHWM") - Idle]),
    halt().

run("seq", N) -> seq(N);
run("batch", N) -> batches(N div ?BATCH).

seq(0) -> ok;
seq(K) ->
    {P, R} = spawn_monitor(fun() -> ok end),
    receive {'DOWN', R, process, P, _} -> seq(K - 1) end.

batches(0) -> ok;
batches(B) ->
    spawn_n(?BATCH),
    collect(?BATCH),
    batches(B - 1).

spawn_n(0) -> ok;
spawn_n(K) ->
    spawn_monitor(fun() -> ok end),
    spawn_n(K - 1).

collect(0) -> ok;
collect(K) -> receive {'DOWN', _, process, _, _} -> collect(K - 1) end.

%% A field of /proc/self/status in KiB (0 where there is none: not Linux).
status_kib(Field) ->
    case file:open("/proc/self/status", [read, raw, binary]) of
        {ok, F} ->
            {ok, Text} = file:read(F, 65536),
            file:close(F),
            Prefix = list_to_binary(Field ++ ":"),
            Lines = binary:split(Text, <<"\n">>, [global]),
            case [L || L <- Lines, binary:match(L, Prefix) =:= {0, byte_size(Prefix)}] of
                [Line | _] ->
                    [_, Value | _] = binary:split(Line, [<<" ">>, <<"\t">>], [global, trim_all]),
                    binary_to_integer(Value);
                [] -> 0
            end;
        _ -> 0
    end.
