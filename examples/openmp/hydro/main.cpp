// A Lagrangian hydrodynamics mini-app in the style of LULESH, written for pcx-c++: a cube of
// hexahedral elements, each with a list of its 8 nodes; every cycle of the time loop calls
// a dozen functions, element loops gather node data through the node list, node loops
// gather element-corner forces through a node -> corner list.  Every loop is already an
// OpenMP `parallel for` (a CPU code), as in the real thing.  The physics is simplified
// (an ideal gas with an artificial viscosity), the data movement is not.
//
// usage: hydro [edge elements] [cycles]     (defaults 24 and 40)
#include <cmath>
#include <cstdio>
#include <cstdlib>

typedef double Real_t;
typedef int Index_t;

// The mesh is at most MAX_EDGE elements along each edge; its fields live at file scope, as
// LULESH's live in one Domain object that every function reaches.
#define MAX_EDGE 30
#define MAX_ELEM (MAX_EDGE * MAX_EDGE * MAX_EDGE)
#define MAX_NODE ((MAX_EDGE + 1) * (MAX_EDGE + 1) * (MAX_EDGE + 1))

static Real_t x[MAX_NODE], y[MAX_NODE], z[MAX_NODE];        // positions
static Real_t xd[MAX_NODE], yd[MAX_NODE], zd[MAX_NODE];     // velocities
static Real_t xdd[MAX_NODE], ydd[MAX_NODE], zdd[MAX_NODE];  // accelerations
static Real_t fx[MAX_NODE], fy[MAX_NODE], fz[MAX_NODE];     // nodal forces
static Real_t nodalMass[MAX_NODE];
static Index_t nodelist[8 * MAX_ELEM];                        // the 8 nodes of each element
static Index_t nodeElemStart[MAX_NODE + 1];                   // node -> its element corners
static Index_t nodeElemCornerList[8 * MAX_ELEM];
static Real_t fx_elem[8 * MAX_ELEM], fy_elem[8 * MAX_ELEM], fz_elem[8 * MAX_ELEM];  // corner forces
static Real_t e[MAX_ELEM], p[MAX_ELEM], q[MAX_ELEM];         // energy, pressure, viscosity
static Real_t v[MAX_ELEM], volo[MAX_ELEM], delv[MAX_ELEM];   // relative and reference volume
static Real_t ss[MAX_ELEM], sig[MAX_ELEM];                   // sound speed, stress
static Index_t symm[3 * (MAX_EDGE + 1) * (MAX_EDGE + 1)];    // nodes on the symmetry planes

static const Real_t gamma_gas = 1.4;
static const Real_t qcoef = 2.0;
static const Real_t u_cut = 1.0e-7;

// ---------------------------------------------------------------- node phase

static void InitStressTermsForElems(Index_t numElem)
{
// pcx: expect offload
#pragma omp parallel for firstprivate(numElem)
    for (Index_t i = 0; i < numElem; ++i)
        sig[i] = -p[i] - q[i];
}

// Corner forces of each element from its stress and the position of each node relative to
// the element's centre: a gather of 8 nodes through the node list.
static void IntegrateStressForElems(Index_t numElem)
{
// pcx: expect offload
#pragma omp parallel for
    for (Index_t k = 0; k < numElem; ++k) {
        Real_t x_local[8], y_local[8], z_local[8];
        Real_t cx = 0.0, cy = 0.0, cz = 0.0;
        for (Index_t lnode = 0; lnode < 8; ++lnode) {
            Index_t gnode = nodelist[8 * k + lnode];
            x_local[lnode] = x[gnode];
            y_local[lnode] = y[gnode];
            z_local[lnode] = z[gnode];
            cx += x[gnode];
            cy += y[gnode];
            cz += z[gnode];
        }
        cx *= 0.125;
        cy *= 0.125;
        cz *= 0.125;
        for (Index_t lnode = 0; lnode < 8; ++lnode) {
            fx_elem[8 * k + lnode] = -sig[k] * (x_local[lnode] - cx);
            fy_elem[8 * k + lnode] = -sig[k] * (y_local[lnode] - cy);
            fz_elem[8 * k + lnode] = -sig[k] * (z_local[lnode] - cz);
        }
    }
}

// Each node sums the corner forces of the elements around it (no scatter, no atomics).
static void GatherForcesToNodes(Index_t numNode)
{
// pcx: expect offload
#pragma omp parallel for schedule(static)
    for (Index_t gnode = 0; gnode < numNode; ++gnode) {
        Real_t fxs = 0.0, fys = 0.0, fzs = 0.0;
        for (Index_t i = nodeElemStart[gnode]; i < nodeElemStart[gnode + 1]; ++i) {
            Index_t corner = nodeElemCornerList[i];
            fxs += fx_elem[corner];
            fys += fy_elem[corner];
            fzs += fz_elem[corner];
        }
        fx[gnode] = fxs;
        fy[gnode] = fys;
        fz[gnode] = fzs;
    }
}

static void CalcAccelerationForNodes(Index_t numNode)
{
// pcx: expect offload
#pragma omp parallel for
    for (Index_t i = 0; i < numNode; ++i) {
        xdd[i] = fx[i] / nodalMass[i];
        ydd[i] = fy[i] / nodalMass[i];
        zdd[i] = fz[i] / nodalMass[i];
    }
}

// The symmetry planes: a scatter through a list of node numbers.  The list holds each node
// once, so the pragma is right, but no analysis can see that from this function.
static void ApplyAccelerationBoundaryConditions(Index_t numSymm)
{
// pcx: expect serial PCX126
#pragma omp parallel for
    for (Index_t i = 0; i < numSymm; ++i) {
        xdd[symm[i]] = 0.0;
        ydd[symm[i]] = 0.0;
        zdd[symm[i]] = 0.0;
    }
}

static void CalcVelocityForNodes(Index_t numNode, Real_t dt)
{
// pcx: expect offload
#pragma omp parallel for firstprivate(dt)
    for (Index_t i = 0; i < numNode; ++i) {
        Real_t xdtmp = xd[i] + xdd[i] * dt;
        Real_t ydtmp = yd[i] + ydd[i] * dt;
        Real_t zdtmp = zd[i] + zdd[i] * dt;
        xd[i] = std::fabs(xdtmp) < u_cut ? 0.0 : xdtmp;
        yd[i] = std::fabs(ydtmp) < u_cut ? 0.0 : ydtmp;
        zd[i] = std::fabs(zdtmp) < u_cut ? 0.0 : zdtmp;
    }
}

static void CalcPositionForNodes(Index_t numNode, Real_t dt)
{
// pcx: expect offload
#pragma omp parallel for
    for (Index_t i = 0; i < numNode; ++i) {
        x[i] += xd[i] * dt;
        y[i] += yd[i] * dt;
        z[i] += zd[i] * dt;
    }
}

// ---------------------------------------------------------------- element phase

// New relative volume of each element from its bounding box (another 8-node gather).
static void CalcKinematicsForElems(Index_t numElem)
{
// pcx: expect offload
#pragma omp parallel for
    for (Index_t k = 0; k < numElem; ++k) {
        Real_t xmin = 1e30, xmax = -1e30, ymin = 1e30, ymax = -1e30, zmin = 1e30, zmax = -1e30;
        for (Index_t lnode = 0; lnode < 8; ++lnode) {
            Index_t gnode = nodelist[8 * k + lnode];
            xmin = std::fmin(xmin, x[gnode]);
            xmax = std::fmax(xmax, x[gnode]);
            ymin = std::fmin(ymin, y[gnode]);
            ymax = std::fmax(ymax, y[gnode]);
            zmin = std::fmin(zmin, z[gnode]);
            zmax = std::fmax(zmax, z[gnode]);
        }
        Real_t vnew = (xmax - xmin) * (ymax - ymin) * (zmax - zmin) / volo[k];
        delv[k] = vnew - v[k];
        v[k] = vnew;
    }
}

static void CalcQForElems(Index_t numElem)
{
// pcx: expect offload
#pragma omp parallel for
    for (Index_t k = 0; k < numElem; ++k) {
        Real_t rho = 1.0 / v[k];
        q[k] = delv[k] < 0.0 ? qcoef * rho * delv[k] * delv[k] + 0.1 * rho * ss[k] * std::fabs(delv[k]) : 0.0;
    }
}

static void CalcEnergyForElems(Index_t numElem)
{
// pcx: expect offload
#pragma omp parallel for
    for (Index_t k = 0; k < numElem; ++k) {
        Real_t enew = e[k] - 0.5 * delv[k] * (p[k] + q[k]);
        if (enew < 0.0)
            enew = 0.0;
        e[k] = enew;
        p[k] = (gamma_gas - 1.0) * enew / v[k];
    }
}

static void CalcSoundSpeedForElems(Index_t numElem)
{
// pcx: expect offload
#pragma omp parallel for
    for (Index_t k = 0; k < numElem; ++k)
        ss[k] = std::sqrt(gamma_gas * p[k] * v[k] + 1.0e-12);
}

static Real_t CalcCourantConstraintForElems(Index_t numElem, Real_t h)
{
    Real_t dtcourant = 1.0e20;
// pcx: expect offload
#pragma omp parallel for reduction(min : dtcourant)
    for (Index_t k = 0; k < numElem; ++k) {
        Real_t dtk = h * std::cbrt(v[k]) / (ss[k] + 1.0e-20);
        dtcourant = std::fmin(dtcourant, dtk);
    }
    return dtcourant;
}

// ---------------------------------------------------------------- set-up and main

int main(int argc, char **argv)
{
    Index_t nx = argc > 1 ? std::atoi(argv[1]) : 24;
    Index_t cycles = argc > 2 ? std::atoi(argv[2]) : 40;
    if (nx < 2 || nx > MAX_EDGE || cycles < 1) {
        std::fprintf(stderr, "usage: hydro [edge elements, 2..%d] [cycles >= 1]\n", MAX_EDGE);
        return 1;
    }
    Index_t np = nx + 1;
    Index_t numElem = nx * nx * nx, numNode = np * np * np;
    Real_t h = 1.125 / nx;

// pcx: expect offload
#pragma omp parallel for
    for (Index_t n = 0; n < numNode; ++n) {
        x[n] = h * (n % np);
        y[n] = h * ((n / np) % np);
        z[n] = h * (n / (np * np));
        xd[n] = yd[n] = zd[n] = 0.0;
        nodalMass[n] = 0.0;
    }
    // The node list: node numbers of the 8 corners of each element.
    for (Index_t k = 0; k < numElem; ++k) {
        Index_t i = k % nx, j = (k / nx) % nx, l = k / (nx * nx);
        Index_t base = i + np * j + np * np * l;
        const Index_t offs[8] = {0, 1, 1 + np, np, np * np, 1 + np * np, 1 + np + np * np, np + np * np};
        for (Index_t c = 0; c < 8; ++c)
            nodelist[8 * k + c] = base + offs[c];
    }
    // The node -> element-corner list (a counting sort of the node list), and the masses.
    for (Index_t n = 0; n <= numNode; ++n)
        nodeElemStart[n] = 0;
    for (Index_t c = 0; c < 8 * numElem; ++c)
        nodeElemStart[nodelist[c] + 1]++;
    for (Index_t n = 0; n < numNode; ++n)
        nodeElemStart[n + 1] += nodeElemStart[n];
    for (Index_t c = 0; c < 8 * numElem; ++c)  // corners in order: each node's slots fill up in turn
        nodeElemCornerList[nodeElemStart[nodelist[c]]++] = c;
    for (Index_t n = numNode; n > 0; --n)  // the fill moved each start to the next node's start
        nodeElemStart[n] = nodeElemStart[n - 1];
    nodeElemStart[0] = 0;
// pcx: expect offload
#pragma omp parallel for
    for (Index_t k = 0; k < numElem; ++k) {
        volo[k] = h * h * h;
        v[k] = 1.0;
        delv[k] = 0.0;
        q[k] = 0.0;
        e[k] = 0.0;
    }
    e[0] = 3.948746e+7 * h * h * h;  // a Sedov-like blast in the corner element
    for (Index_t c = 0; c < 8 * numElem; ++c)
        nodalMass[nodelist[c]] += 0.125 * h * h * h;
    // The nodes on the symmetry planes x = 0, y = 0 and z = 0, each once (the scatter's
    // pragma relies on that).
    Index_t numSymm = 0;
    for (Index_t n = 0; n < numNode; ++n)
        if (n % np == 0 || (n / np) % np == 0 || n / (np * np) == 0)
            symm[numSymm++] = n;
// pcx: expect offload
#pragma omp parallel for
    for (Index_t k = 0; k < numElem; ++k)
        p[k] = (gamma_gas - 1.0) * e[k] / v[k];
    CalcSoundSpeedForElems(numElem);

    Real_t time = 0.0, dt = 1.0e-7;
    for (Index_t cycle = 0; cycle < cycles; ++cycle) {
        InitStressTermsForElems(numElem);
        IntegrateStressForElems(numElem);
        GatherForcesToNodes(numNode);
        CalcAccelerationForNodes(numNode);
        ApplyAccelerationBoundaryConditions(numSymm);
        CalcVelocityForNodes(numNode, dt);
        CalcPositionForNodes(numNode, dt);
        CalcKinematicsForElems(numElem);
        CalcQForElems(numElem);
        CalcEnergyForElems(numElem);
        CalcSoundSpeedForElems(numElem);
        Real_t dtc = CalcCourantConstraintForElems(numElem, h);
        time += dt;
        dt = std::fmin(1.1 * dt, 0.5 * dtc);
    }

    Real_t etot = 0.0, xsum = 0.0, ke = 0.0;
    for (Index_t k = 0; k < numElem; ++k)
        etot += e[k];
    for (Index_t n = 0; n < numNode; ++n) {
        xsum += x[n] + y[n] + z[n];
        ke += 0.5 * nodalMass[n] * (xd[n] * xd[n] + yd[n] * yd[n] + zd[n] * zd[n]);
    }
    std::printf("hydro nx=%d cycles=%d\n", nx, cycles);
    std::printf("time = %.10e\n", time);
    std::printf("energy = %.10e\n", etot);
    std::printf("kinetic = %.10e\n", ke);
    std::printf("position sum = %.10e\n", xsum);
    std::printf("e[0] = %.10e\n", e[0]);
    return 0;
}
