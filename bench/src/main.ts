// Entry point of `npm run bench`. No scenarios exist yet; say so plainly rather than print fake numbers.
console.log('no benchmarks yet');
